import type { AppContext } from '../context';
import { AppError, forbidden } from '../domain/errors';
import { type Actor, atLeast } from '../domain/permissions';
import type { BulkAction, PostStatus } from '../domain/vocabulary';
import { approvePost, type TargetInput } from './reviews/approval';
import { forwardPost, passPost } from './reviews/decisions';

/**
 * Bulk decisions from the inbox: several posts decided together (approve to the same channels, pass,
 * or forward). Each post is decided on its own, exactly as one decision would be: its own
 * permission and version check, its own transaction, slot (the fair share plans each approval's
 * slotted channels again) and timeline event. One refusal does not stop the others.
 */

export interface BulkInput {
  action: BulkAction;
  posts: { id: string; version: number }[];
  /** For `approve`: the channels every post goes to. */
  targets?: TargetInput[];
  /** The approval's comment, or the pass / forward note. */
  note?: string | null;
}

export interface BulkResult {
  id: string;
  /** The HTTP status the single decision would have answered. */
  status: number;
  /** The post's status and version after the decision (when it was made). */
  postStatus?: PostStatus;
  version?: number;
  /** Why it was refused: the problem's code and text. */
  code?: string;
  detail?: string;
}

export async function decideInBulk(ctx: AppContext, actor: Actor, input: BulkInput): Promise<BulkResult[]> {
  if (!atLeast(actor, 'reviewer')) throw forbidden('Only reviewers decide on posts');
  const results: BulkResult[] = [];
  const note = input.note ?? null;
  for (const item of input.posts) {
    try {
      const view =
        input.action === 'approve'
          ? await approvePost(ctx, actor, item.id, {
              version: item.version,
              targets: input.targets ?? [],
              ...(note ? { comment: note } : {}),
            })
          : input.action === 'pass'
            ? await passPost(ctx, actor, item.id, item.version, note)
            : await forwardPost(ctx, actor, item.id, item.version, note);
      results.push({ id: item.id, status: 200, postStatus: view.status, version: view.version });
    } catch (error) {
      if (!(error instanceof AppError) || error.status >= 500) throw error;
      results.push({ id: item.id, status: error.status, code: error.code, detail: error.message });
    }
  }
  return results;
}
