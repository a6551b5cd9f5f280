import type { AppContext } from '../../context';
import type { Platform } from '../../domain/vocabulary';
import type { PublishMedia } from '../../platforms/types';
import { postMediaList } from '../posts';
import { prepareMediaForPlatform } from './renditions';
import { signedMediaUrl } from './signed-urls';

/** What adapters receive: a post's media prepared for a platform. */

/**
 * The post's media prepared for `platform`, in order; the alt text given on the post overrides the
 * medium's own. Throws `media_unacceptable` for a medium the platform cannot take.
 */
export async function loadPublishMedia(
  ctx: AppContext,
  postId: string,
  platform: Platform,
): Promise<PublishMedia[]> {
  const result: PublishMedia[] = [];
  // One at a time: image re-encoding is CPU-bound.
  for (const item of await postMediaList(ctx.db, postId)) {
    const prepared = await prepareMediaForPlatform(ctx, item.id, platform);
    result.push({
      id: item.id,
      kind: item.kind,
      mime: prepared.mime,
      bytes: prepared.bytes,
      width: prepared.width,
      height: prepared.height,
      durationMs: item.durationMs,
      altText: item.altText,
      sha256: prepared.sha256,
      open: () => ctx.storage.open(prepared.sha256),
      publicUrl: () => signedMediaUrl(ctx, item.id, platform),
    });
  }
  return result;
}
