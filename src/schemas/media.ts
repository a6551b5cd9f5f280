import { z } from 'zod';
import { MEDIA_KINDS } from '../domain/vocabulary';

/** The facts of a stored medium as views show them (`MediaFacts` in src/domain/media-rules.ts). */
export const mediaFactsView = {
  kind: z.enum(MEDIA_KINDS),
  mime: z.string(),
  bytes: z.number().int(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  durationMs: z.number().int().nullable(),
};
