import { z } from 'zod';
import { CHANNEL_STATUSES, OAUTH_PROVIDERS, PLATFORMS } from '../domain/vocabulary';

/** Inputs and views of channels. */

export const secretBag = z.record(z.string().max(100), z.unknown());

export const channelView = z.object({
  id: z.uuid(),
  unitId: z.uuid(),
  platform: z.enum(PLATFORMS),
  name: z.string(),
  handle: z.string().nullable(),
  status: z.enum(CHANNEL_STATUSES),
  statusReason: z.string().nullable(),
  settings: z.record(z.string(), z.unknown()),
  timeZone: z.string(),
  dailyCap: z.number().int().nullable(),
  minSpacingMinutes: z.number().int(),
  creditTemplate: z.string(),
  slots: z.array(z.string()),
  connected: z.boolean().describe('Credentials are stored (they are never returned)'),
  credentialsExpiresAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

/** The editable fields of a channel, shared by create and PATCH. */
export const channelFields = {
  name: z.string().trim().min(1).max(120),
  settings: secretBag.optional(),
  credentials: secretBag.optional().describe('Platform secrets; stored encrypted, never returned'),
  timeZone: z.string().max(64).optional(),
  dailyCap: z.number().int().min(1).max(1000).nullable().optional(),
  minSpacingMinutes: z.number().int().min(0).max(1440).optional(),
  creditTemplate: z.string().max(1000).optional(),
  slots: z.array(z.string().max(120)).max(100).optional(),
};

export const channelListQuery = z.strictObject({
  unitId: z.uuid().optional(),
  platform: z.enum(PLATFORMS).optional(),
  status: z.enum(CHANNEL_STATUSES).optional(),
});

export const channelList = z.object({ channels: z.array(channelView) });

export const createChannelBody = z.strictObject({
  unitId: z.uuid(),
  platform: z.enum(PLATFORMS),
  ...channelFields,
});

export const updateChannelBody = z.strictObject({
  ...channelFields,
  name: channelFields.name.optional(),
  paused: z.boolean().optional().describe('true pauses publishing; false re-verifies and resumes'),
});

export const slotsBody = z.strictObject({ slots: z.array(z.string().max(120)).max(100) });

export const verifyView = z.object({
  channel: channelView,
  ok: z.boolean(),
  account: z.object({ remoteId: z.string(), handle: z.string(), name: z.string().optional() }).nullable(),
  problem: z.string().nullable(),
});

export const oauthCallbackQuery = z.object({
  code: z.string().max(2000).optional(),
  state: z.string().max(200),
  error: z.string().max(200).optional(),
});

export const connectMetaBody = z.strictObject({
  userAccessToken: z.string().min(10).max(1000),
  pageId: z
    .string()
    .regex(/^\d{1,30}$/)
    .optional(),
});

export const authorizeView = z.object({ authorizeUrl: z.string() });

export const connectParams = z.strictObject({ id: z.uuid(), provider: z.enum(OAUTH_PROVIDERS) });

export const oauthCallbackParams = z.strictObject({ provider: z.enum(OAUTH_PROVIDERS) });
