import { describe, expect, it } from 'vitest';
import { type Action, type Actor, decide, type Resource } from '../../src/domain/permissions';
import { POST_STATUSES, ROLES, type Role } from '../../src/domain/vocabulary';

// national N; regions A and B; offices A1, A2 under A and B1 under B.
const PATHS = {
  N: '/n/',
  A: '/n/a/',
  B: '/n/b/',
  A1: '/n/a/a1/',
  A2: '/n/a/a2/',
  B1: '/n/b/b1/',
} as const;
type UnitKey = keyof typeof PATHS;
const UNITS = Object.keys(PATHS) as UnitKey[];

const actor = (unit: UnitKey, role: Role, userId = `${unit}-${role}`): Actor => ({
  userId,
  role,
  unitId: unit,
  unitPath: PATHS[unit],
});

/** The decision for every actor (unit × role) on one resource, as `{ 'A1.admin': 'allow', … }`. */
function grid(action: Action, resource: Resource) {
  const out: Record<string, string> = {};
  for (const unit of UNITS)
    for (const role of ROLES) out[`${unit}.${role}`] = decide(actor(unit, role), action, resource);
  return out;
}

/** Expected decisions written as one string per unit: c/r/a for contributor/reviewer/admin, with Y=allow, F=forbidden, N=not_found. */
function expected(rows: Record<UnitKey, string>) {
  const word = { Y: 'allow', F: 'forbidden', N: 'not_found' } as const;
  const out: Record<string, string> = {};
  for (const unit of UNITS)
    ROLES.forEach((role, i) => {
      out[`${unit}.${role}`] = word[rows[unit][i] as keyof typeof word];
    });
  return out;
}

describe('decide: units', () => {
  it('shows a unit to its own people, the reviewers and admins above it, and the units below it', () => {
    expect(grid('unit.read', { type: 'unit', unitPath: PATHS.A })).toEqual(
      expected({ N: 'NYY', A: 'YYY', B: 'NNN', A1: 'YYY', A2: 'YYY', B1: 'NNN' }),
    );
    expect(grid('unit.read', { type: 'unit', unitPath: PATHS.A1 })).toEqual(
      expected({ N: 'NYY', A: 'NYY', B: 'NNN', A1: 'YYY', A2: 'NNN', B1: 'NNN' }),
    );
  });

  it('lets admins create under and change units of their own subtree only', () => {
    for (const action of ['unit.create', 'unit.update'] as const)
      expect(grid(action, { type: 'unit', unitPath: PATHS.A })).toEqual(
        expected({ N: 'NFY', A: 'FFY', B: 'NNN', A1: 'FFF', A2: 'FFF', B1: 'NNN' }),
      );
  });

  it('lists users of a subtree to its admins', () => {
    expect(grid('user.list', { type: 'unit', unitPath: PATHS.A1 })).toEqual(
      expected({ N: 'NFY', A: 'NFY', B: 'NNN', A1: 'FFY', A2: 'NNN', B1: 'NNN' }),
    );
  });
});

describe('decide: users', () => {
  const target: Resource = { type: 'user', userId: 'someone', unitPath: PATHS.A1, role: 'contributor' };

  it('shows a user to themselves and to the admins over them, hiding them from everyone else', () => {
    expect(grid('user.read', target)).toEqual(
      expected({ N: 'NNY', A: 'NNY', B: 'NNN', A1: 'NNY', A2: 'NNN', B1: 'NNN' }),
    );
    expect(decide(actor('A1', 'contributor', 'someone'), 'user.read', target)).toBe('allow');
  });

  it('lets the admins over a user change them, but nobody change their own role, unit or access', () => {
    expect(grid('user.update', target)).toEqual(
      expected({ N: 'NNY', A: 'NNY', B: 'NNN', A1: 'NNY', A2: 'NNN', B1: 'NNN' }),
    );
    const self = actor('A', 'admin', 'me');
    expect(
      decide(self, 'user.update', { type: 'user', userId: 'me', unitPath: PATHS.A, role: 'admin' }),
    ).toBe('forbidden');
    expect(
      decide(self, 'user.profile', { type: 'user', userId: 'me', unitPath: PATHS.A, role: 'admin' }),
    ).toBe('allow');
    expect(
      decide(actor('A1', 'contributor', 'me'), 'user.profile', {
        type: 'user',
        userId: 'me',
        unitPath: PATHS.A1,
        role: 'contributor',
      }),
    ).toBe('allow');
  });

  it('lets admins put users only into their subtree, answering 404 for units they cannot see', () => {
    for (const role of ROLES) {
      expect(grid('user.create', { type: 'user', unitPath: PATHS.A, role })).toEqual(
        expected({ N: 'NFY', A: 'FFY', B: 'NNN', A1: 'FFF', A2: 'FFF', B1: 'NNN' }),
      );
    }
  });

  it('lets admins grant roles up to their own, and nobody below admin grant any', () => {
    expect(
      decide(actor('A', 'reviewer'), 'user.create', { type: 'user', unitPath: PATHS.A1, role: 'admin' }),
    ).toBe('forbidden');
    expect(
      decide(actor('A', 'admin'), 'user.create', { type: 'user', unitPath: PATHS.A1, role: 'admin' }),
    ).toBe('allow');
  });
});

describe('decide: tokens, audit, reports, queues', () => {
  it('lets only the owner manage a token and hides it from everyone else, admins included', () => {
    expect(
      decide(actor('A1', 'contributor', 'owner'), 'token.manage', { type: 'token', ownerId: 'owner' }),
    ).toBe('allow');
    expect(decide(actor('N', 'admin'), 'token.manage', { type: 'token', ownerId: 'owner' })).toBe(
      'not_found',
    );
  });

  it('keeps notifications personal, hidden even from admins', () => {
    const mine = { type: 'notification', userId: 'A1-contributor' } as const;
    expect(decide(actor('A1', 'contributor'), 'notification.read', mine)).toBe('allow');
    expect(decide(actor('A1', 'admin'), 'notification.read', mine)).toBe('not_found');
    expect(decide(actor('N', 'admin'), 'notification.read', mine)).toBe('not_found');
  });

  it('shows the audit trail of a subtree to its admins', () => {
    expect(grid('audit.read', { type: 'audit', unitPath: PATHS.A })).toEqual(
      expected({ N: 'NFY', A: 'FFY', B: 'NNN', A1: 'FFF', A2: 'FFF', B1: 'NNN' }),
    );
  });

  it('shows reports of a subtree to its reviewers and admins, and of their own unit to contributors', () => {
    expect(grid('report.read', { type: 'report', unitPath: PATHS.A })).toEqual(
      expected({ N: 'NYY', A: 'YYY', B: 'NNN', A1: 'FFF', A2: 'FFF', B1: 'NNN' }),
    );
    expect(grid('report.read', { type: 'report', unitPath: PATHS.A1 })).toEqual(
      expected({ N: 'NYY', A: 'NYY', B: 'NNN', A1: 'YYY', A2: 'NNN', B1: 'NNN' }),
    );
  });

  it('shows the days off to everyone and lets the national admins alone change them', () => {
    expect(grid('holiday.read', { type: 'holidays' })).toEqual(
      expected({ N: 'YYY', A: 'YYY', B: 'YYY', A1: 'YYY', A2: 'YYY', B1: 'YYY' }),
    );
    expect(grid('holiday.manage', { type: 'holidays' })).toEqual(
      expected({ N: 'FFY', A: 'FFF', B: 'FFF', A1: 'FFF', A2: 'FFF', B1: 'FFF' }),
    );
  });

  it('opens the queue dashboard to admins of the national unit only', () => {
    expect(grid('queues.admin', { type: 'queues' })).toEqual(
      expected({ N: 'FFY', A: 'FFF', B: 'FFF', A1: 'FFF', A2: 'FFF', B1: 'FFF' }),
    );
  });
});

describe('decide: posts, channels, media, deliveries', () => {
  it('keeps drafts inside the office and shows submitted posts to the reviewers above', () => {
    const post = (status: (typeof POST_STATUSES)[number], submitted = status !== 'draft'): Resource => ({
      type: 'post',
      unitPath: PATHS.A1,
      authorId: 'A1-contributor',
      status,
      submitted,
    });
    expect(grid('post.read', post('draft'))).toEqual(
      expected({ N: 'NNN', A: 'NNN', B: 'NNN', A1: 'YYY', A2: 'NNN', B1: 'NNN' }),
    );
    // A draft withdrawn before it was ever submitted stays inside the office too.
    expect(grid('post.read', post('withdrawn', false))).toEqual(
      expected({ N: 'NNN', A: 'NNN', B: 'NNN', A1: 'YYY', A2: 'NNN', B1: 'NNN' }),
    );
    expect(grid('post.read', post('withdrawn'))).toEqual(
      expected({ N: 'NYY', A: 'NYY', B: 'NNN', A1: 'YYY', A2: 'NNN', B1: 'NNN' }),
    );
    expect(grid('post.read', post('submitted'))).toEqual(
      expected({ N: 'NYY', A: 'NYY', B: 'NNN', A1: 'YYY', A2: 'NNN', B1: 'NNN' }),
    );
    expect(grid('post.review', post('submitted'))).toEqual(
      expected({ N: 'NYY', A: 'NYY', B: 'NNN', A1: 'FYY', A2: 'NNN', B1: 'NNN' }),
    );
    expect(grid('post.update', post('submitted'))).toEqual(
      expected({ N: 'NFF', A: 'NFF', B: 'NNN', A1: 'YYY', A2: 'NNN', B1: 'NNN' }),
    );
  });

  it('lets reviewers target only the channels of their own unit', () => {
    expect(grid('channel.target', { type: 'channel', unitPath: PATHS.N })).toEqual(
      expected({ N: 'FYY', A: 'FFF', B: 'FFF', A1: 'FFF', A2: 'FFF', B1: 'FFF' }),
    );
    expect(grid('channel.manage', { type: 'channel', unitPath: PATHS.A })).toEqual(
      expected({ N: 'NFY', A: 'FFY', B: 'NNN', A1: 'FFF', A2: 'FFF', B1: 'NNN' }),
    );
  });

  it('shows deliveries to whoever controls the channel or sees the post', () => {
    const delivery: Resource = { type: 'delivery', channelUnitPath: PATHS.N, postUnitPath: PATHS.A1 };
    expect(grid('delivery.read', delivery)).toEqual(
      expected({ N: 'NYY', A: 'NYY', B: 'NNN', A1: 'YYY', A2: 'NNN', B1: 'NNN' }),
    );
    expect(grid('delivery.manage', delivery)).toEqual(
      expected({ N: 'NYY', A: 'NFF', B: 'NNN', A1: 'FFF', A2: 'NNN', B1: 'NNN' }),
    );
  });
});

describe('decide: sources', () => {
  it("lets the office's people manage its source, and the admins above it pause or remove it too", () => {
    const source: Resource = { type: 'source', unitPath: PATHS.A1 };
    expect(grid('source.manage', source)).toEqual(
      expected({ N: 'NFF', A: 'NFF', B: 'NNN', A1: 'YYY', A2: 'NNN', B1: 'NNN' }),
    );
    expect(grid('source.control', source)).toEqual(
      expected({ N: 'NFY', A: 'NFY', B: 'NNN', A1: 'YYY', A2: 'NNN', B1: 'NNN' }),
    );
  });
});

describe('decide: existence never leaks', () => {
  // Every resource in every unit, with its read action and the actions that change it.
  const families: Array<{ read: Action; writes: Action[]; at: (path: string) => Resource }> = [
    {
      read: 'unit.read',
      writes: ['unit.create', 'unit.update', 'user.list'],
      at: (p) => ({ type: 'unit', unitPath: p }),
    },
    {
      read: 'user.read',
      writes: ['user.update', 'user.profile'],
      at: (p) => ({ type: 'user', userId: 'x', unitPath: p, role: 'contributor' }),
    },
    ...POST_STATUSES.map((status) => ({
      read: 'post.read' as const,
      writes: ['post.update', 'post.submit', 'post.withdraw', 'post.comment', 'post.review'] as Action[],
      at: (p: string): Resource => ({ type: 'post', unitPath: p, authorId: 'x', status, submitted: true }),
    })),
    {
      read: 'channel.read',
      writes: ['channel.manage', 'channel.target'],
      at: (p) => ({ type: 'channel', unitPath: p }),
    },
    {
      read: 'media.read',
      writes: ['media.create', 'media.update'],
      at: (p) => ({ type: 'media', unitPath: p }),
    },
    {
      read: 'source.read',
      writes: ['source.manage', 'source.control'],
      at: (p) => ({ type: 'source', unitPath: p }),
    },
    {
      read: 'delivery.read',
      writes: ['delivery.manage'],
      at: (p) => ({ type: 'delivery', channelUnitPath: p, postUnitPath: p }),
    },
  ];

  it('answers not_found, never forbidden, to any action on something the actor cannot read', () => {
    for (const family of families)
      for (const unit of UNITS)
        for (const who of UNITS)
          for (const role of ROLES) {
            const resource = family.at(PATHS[unit]);
            const reader = actor(who, role);
            if (decide(reader, family.read, resource) !== 'not_found') continue;
            for (const write of family.writes)
              expect(decide(reader, write, resource), `${who}.${role} ${write} in ${unit}`).toBe('not_found');
          }
  });

  it('refuses actions that do not belong to the resource', () => {
    expect(decide(actor('N', 'admin'), 'post.read', { type: 'unit', unitPath: PATHS.N })).toBe('forbidden');
    expect(decide(actor('N', 'admin'), 'unit.read', { type: 'token', ownerId: 'N-admin' })).toBe('forbidden');
  });
});
