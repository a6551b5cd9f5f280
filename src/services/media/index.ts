/**
 * Media use cases: uploads (streamed, sniffed, inspected, deduplicated), per-platform renditions,
 * the media handed to adapters, signed public URLs, and garbage collection.
 */

export { collectGarbageMedia, type MediaGarbageCounts } from './garbage';
export {
  loadMedia,
  type MediaRow,
  type MediaView,
  mediaView,
  unitMediaThumbnails,
  updateAltText,
} from './library';
export { loadPublishMedia } from './publish-media';
export { factsOf, mediaIssuesForPlatform, type PreparedMedia, prepareMediaForPlatform } from './renditions';
export { checkMediaUrl, signedMediaUrl } from './signed-urls';
export {
  recordUploads,
  type StagedUpload,
  stageUpload,
  type UploadSource,
  type UploadToRecord,
  uploadMedia,
} from './upload';
