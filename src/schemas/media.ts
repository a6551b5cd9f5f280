import { z } from 'zod';
import { ALT_TEXT_MAX } from '../domain/media-rules';
import { MEDIA_KINDS, PLATFORMS } from '../domain/vocabulary';

/** The facts of a stored medium as views show them (`MediaFacts` in src/domain/media-rules.ts). */
export const mediaFactsView = {
  kind: z.enum(MEDIA_KINDS),
  mime: z.string(),
  bytes: z.number().int(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  durationMs: z.number().int().nullable(),
};

export const mediaViewSchema = z.object({
  id: z.uuid(),
  unitId: z.uuid(),
  ...mediaFactsView,
  altText: z.string(),
  originalName: z.string().nullable(),
  sha256: z.string(),
  details: z
    .record(z.string(), z.unknown())
    .nullable()
    .describe("A video's codecs, frame rate and bit rate (ffprobe); an image's animation and transparency"),
  thumbnailUrl: z.string().nullable(),
  contentUrl: z.string(),
  createdAt: z.string(),
});

export const bytesResponse = { 200: z.any().describe('The bytes') };

export const platformMediaParams = z.strictObject({ id: z.uuid(), platform: z.enum(PLATFORMS) });

export const signatureQuery = z.object({
  exp: z.string().max(20).optional(),
  sig: z.string().max(200).optional(),
});

export const altTextBody = z.strictObject({ altText: z.string().max(ALT_TEXT_MAX) });

export const uploadFields = z.strictObject({ altText: z.string().max(ALT_TEXT_MAX).optional() });
