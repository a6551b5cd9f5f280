import { z } from 'zod';
import { PLATFORMS } from '../domain/vocabulary';

/** Inputs of posts, shared by the API and the web app. */

export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2048);
export const isoTime = z.iso.datetime({ offset: true });

/** The editable content of a post, shared by create and PATCH. */
export const postContent = {
  body: z.string().max(65_536),
  variants: z
    .partialRecord(z.enum(PLATFORMS), z.string().max(65_536))
    .describe('Per-platform text replacing the body there; an empty string removes the variant'),
  media: z
    .array(z.strictObject({ id: z.uuid(), altText: z.string().max(1_500).nullable().optional() }))
    .max(20)
    .describe('Media of the post unit, in publishing order, with alt text for this post'),
  link: httpUrl.nullable(),
  sourceUrl: httpUrl.nullable().describe("The original post on the office's own account"),
  tags: z.array(z.string().trim().min(1).max(100)).max(30),
  preferredFrom: isoTime.nullable(),
  preferredTo: isoTime.nullable(),
};

/** Longest comment in a post's thread, in characters (the web form's field says it too). */
export const COMMENT_MAX = 5_000;
export const commentBody = z.string().trim().min(1).max(COMMENT_MAX);

/** Longest reason for withdrawing a post. */
export const WITHDRAW_REASON_MAX = 5_000;
export const withdrawReason = z.string().trim().min(1).max(WITHDRAW_REASON_MAX);

/** Longest reason for retracting a published post. */
export const RETRACTION_REASON_MAX = 2_000;
export const retractionReason = z.string().trim().min(1).max(RETRACTION_REASON_MAX);

/** Longest correction published in a retracted post's place. */
export const CORRECTION_MAX = 65_536;
