import { extractHashtags } from './rendering';

/**
 * Auto-approval rules of a trusted office's source, the pure part: which items a rule takes and when
 * its approval and the publication fall.
 */

/** Hashtags as a rule keeps them: without `#`, lower case, each once. */
export function normaliseHashtags(hashtags: readonly string[]): string[] {
  return [...new Set(hashtags.map((tag) => tag.trim().replace(/^#+/, '').toLowerCase()).filter(Boolean))];
}

/** A rule without hashtags takes every item; one with hashtags, the items whose text or tags carry one of them. */
export function ruleTakes(ruleHashtags: readonly string[], text: string, tags: readonly string[]): boolean {
  if (ruleHashtags.length === 0) return true;
  const carried = new Set(
    [...extractHashtags(text), ...tags].map((tag) => tag.replace(/^#+/, '').toLowerCase()),
  );
  return ruleHashtags.some((tag) => carried.has(tag));
}

/** When the rule approves an item that arrived at `arrivedAt`: once the stop window has passed. */
export const ruleDecidesAt = (arrivedAt: Date, stopWindowMinutes: number) =>
  new Date(arrivedAt.getTime() + stopWindowMinutes * 60_000);

/**
 * When the approval publishes: at the fixed delay after arrival (never before the rule decides), or
 * null for the channel's next free slot after the decision.
 */
export function rulePublishesAt(
  arrivedAt: Date,
  rule: { delayMinutes: number | null; stopWindowMinutes: number },
): Date | null {
  if (rule.delayMinutes === null) return null;
  const at = arrivedAt.getTime() + rule.delayMinutes * 60_000;
  return new Date(Math.max(at, ruleDecidesAt(arrivedAt, rule.stopWindowMinutes).getTime()));
}
