import { z } from 'zod';

/**
 * An update Telegram delivers to the source bot's webhook. What Gaung places a channel post by (its
 * chat, message, date and album) is checked; the rest of the Message is kept as Telegram sent it.
 */
const channelPost = z.looseObject({
  message_id: z.int().positive(),
  date: z.int().nonnegative(),
  chat: z.looseObject({
    id: z.int(),
    type: z.string(),
    title: z.string().optional(),
    username: z.string().optional(),
  }),
  media_group_id: z.string().min(1).max(100).optional(),
  text: z.string().optional(),
  caption: z.string().optional(),
});

export const telegramUpdateBody = z.looseObject({
  update_id: z.int().nonnegative(),
  channel_post: channelPost.optional(),
});
