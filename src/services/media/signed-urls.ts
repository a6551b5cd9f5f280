import type { AppContext } from '../../context';
import { AppError } from '../../domain/errors';
import type { Platform } from '../../domain/vocabulary';

/** Signed, expiring public URLs, for platforms that fetch media themselves. */

const signedPart = (mediaId: string, platform: string, exp: number) => `${mediaId}:${platform}:${exp}`;

/** `${GAUNG_PUBLIC_URL}/media-public/<id>/<platform>?exp=…&sig=…`, valid for GAUNG_MEDIA_URL_TTL_SECONDS. */
export function signedMediaUrl(ctx: AppContext, mediaId: string, platform: Platform): string {
  const exp = Math.floor(ctx.now().getTime() / 1000) + ctx.config.GAUNG_MEDIA_URL_TTL_SECONDS;
  const sig = ctx.keys.sign('media-url', signedPart(mediaId, platform, exp));
  return `${ctx.config.publicUrl}/media-public/${mediaId}/${platform}?exp=${exp}&sig=${sig}`;
}

/** Throws 403 unless `exp` and `sig` were made by `signedMediaUrl` and have not expired. */
export function checkMediaUrl(
  ctx: AppContext,
  mediaId: string,
  platform: Platform,
  exp: string | undefined,
  sig: string | undefined,
): void {
  if (!exp || !sig || !/^\d{1,12}$/.test(exp))
    throw new AppError('media_url_unsigned', 403, 'This media link is not signed.');
  if (!ctx.keys.verify('media-url', signedPart(mediaId, platform, Number(exp)), sig))
    throw new AppError('media_url_invalid', 403, 'This media link is not valid.');
  if (Number(exp) * 1000 < ctx.now().getTime())
    throw new AppError('media_url_expired', 403, 'This media link has expired.');
}
