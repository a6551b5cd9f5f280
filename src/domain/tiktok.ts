import type { ValidationIssue } from './rendering';

/**
 * The choices TikTok's Content Sharing Guidelines require Gaung to offer for each post: who may
 * see it (no preset: a person picks one of the levels the creator may use) and whether comments,
 * duets and stitches are allowed (never allowed where the creator turned them off). An app TikTok
 * has not audited may only post SELF_ONLY.
 */

/** https://developers.tiktok.com/doc/content-posting-api-reference-query-creator-info */
export const TIKTOK_PRIVACY_LEVELS = [
  'PUBLIC_TO_EVERYONE',
  'MUTUAL_FOLLOW_FRIENDS',
  'FOLLOWER_OF_CREATOR',
  'SELF_ONLY',
] as const;
export type TiktokPrivacyLevel = (typeof TIKTOK_PRIVACY_LEVELS)[number];

/** What a reviewer chose for one TikTok delivery. */
export interface TiktokChoice {
  privacyLevel?: TiktokPrivacyLevel;
  allowComment?: boolean;
  allowDuet?: boolean;
  allowStitch?: boolean;
}

/** The creator's options as last read from TikTok, and the channel's own TikTok settings. */
export interface TiktokChannelFacts {
  unaudited?: boolean;
  privacyLevel?: TiktokPrivacyLevel;
  privacyLevelOptions?: TiktokPrivacyLevel[];
  commentDisabled?: boolean;
  duetDisabled?: boolean;
  stitchDisabled?: boolean;
}

const isLevel = (value: unknown): value is TiktokPrivacyLevel =>
  typeof value === 'string' && (TIKTOK_PRIVACY_LEVELS as readonly string[]).includes(value);

/** Reads the TikTok facts out of a channel's settings (unknown keys and shapes ignored). */
export function tiktokFacts(settings: Record<string, unknown>): TiktokChannelFacts {
  const flag = (key: string) => (typeof settings[key] === 'boolean' ? (settings[key] as boolean) : undefined);
  const options = Array.isArray(settings.privacyLevelOptions)
    ? settings.privacyLevelOptions.filter(isLevel)
    : undefined;
  return {
    unaudited: flag('unaudited'),
    privacyLevel: isLevel(settings.privacyLevel) ? settings.privacyLevel : undefined,
    privacyLevelOptions: options,
    commentDisabled: flag('commentDisabled'),
    duetDisabled: flag('duetDisabled'),
    stitchDisabled: flag('stitchDisabled'),
  };
}

/** The privacy levels the approve screen offers: SELF_ONLY alone for an unaudited app. */
export function offeredPrivacyLevels(facts: TiktokChannelFacts): TiktokPrivacyLevel[] {
  if (facts.unaudited) return ['SELF_ONLY'];
  return facts.privacyLevelOptions ?? [...TIKTOK_PRIVACY_LEVELS];
}

/**
 * Checks a reviewer's TikTok choice against what the creator allows and returns what the delivery
 * records (or the issues that refuse it).
 */
export function decideTiktokChoice(
  facts: TiktokChannelFacts,
  choice: TiktokChoice | undefined,
): { recorded: Required<TiktokChoice>; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const offered = offeredPrivacyLevels(facts);
  const privacyLevel = facts.unaudited ? 'SELF_ONLY' : (choice?.privacyLevel ?? facts.privacyLevel);
  if (!privacyLevel)
    issues.push({
      code: 'tiktok_privacy_required',
      severity: 'error',
      field: 'tiktok.privacyLevel',
      message: 'Choose who may see this TikTok post; TikTok requires a choice for every post.',
    });
  else if (!offered.includes(privacyLevel))
    issues.push({
      code: 'tiktok_privacy_not_allowed',
      severity: 'error',
      field: 'tiktok.privacyLevel',
      message: `The TikTok account does not allow ${privacyLevel}; it allows ${offered.join(', ')}.`,
    });
  const interaction = (
    key: 'allowComment' | 'allowDuet' | 'allowStitch',
    disabled: boolean | undefined,
    what: string,
  ) => {
    if (disabled && choice?.[key] === true)
      issues.push({
        code: 'tiktok_interaction_disabled',
        severity: 'error',
        field: `tiktok.${key}`,
        message: `The TikTok account has turned ${what} off; they cannot be allowed for this post.`,
      });
    return disabled ? false : (choice?.[key] ?? false);
  };
  return {
    recorded: {
      privacyLevel: privacyLevel ?? 'SELF_ONLY',
      allowComment: interaction('allowComment', facts.commentDisabled, 'comments'),
      allowDuet: interaction('allowDuet', facts.duetDisabled, 'duets'),
      allowStitch: interaction('allowStitch', facts.stitchDisabled, 'stitches'),
    },
    issues,
  };
}
