import { z } from 'zod';

/** Inputs shared by every resource of the API and the web app. */

export const idParams = z.strictObject({ id: z.uuid() });

/** The version the client saw; a stale one gets 409 with the current version. */
export const versionField = z.number().int().min(1);

/** A query string that takes no parameters. */
export const noQuery = z.strictObject({});
