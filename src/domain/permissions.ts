import type { PostStatus, Role } from './vocabulary';

/**
 * Who may do what. Every route asks `decide` and nothing else decides. A resource the actor may
 * not even see answers `not_found` (the API says 404, so ids of other units leak nothing); one
 * the actor sees but may not change answers `forbidden` (403).
 *
 * Units form a tree addressed by materialized paths (`/root/child/…/`): `a` contains `b` when
 * `b.startsWith(a)`. Roles are ordered contributor < reviewer < admin; a higher role may do
 * everything a lower one may.
 */

export interface Actor {
  userId: string;
  role: Role;
  unitId: string;
  unitPath: string;
}

export type Resource =
  | { type: 'unit'; unitPath: string }
  | { type: 'user'; userId: string; unitPath: string; role: Role }
  | { type: 'post'; unitPath: string; authorId: string; status: PostStatus }
  | { type: 'channel'; unitPath: string }
  | { type: 'media'; unitPath: string }
  | { type: 'delivery'; channelUnitPath: string; postUnitPath: string }
  | { type: 'token'; ownerId: string }
  | { type: 'audit'; unitPath: string }
  | { type: 'report'; unitPath: string }
  | { type: 'queues' };

export type Action =
  | 'unit.read'
  | 'unit.create'
  | 'unit.update'
  | 'user.read'
  | 'user.create'
  | 'user.update'
  | 'post.read'
  | 'post.create'
  | 'post.update'
  | 'post.submit'
  | 'post.withdraw'
  | 'post.comment'
  | 'post.review'
  | 'channel.read'
  | 'channel.manage'
  | 'channel.target'
  | 'media.read'
  | 'media.create'
  | 'media.update'
  | 'delivery.read'
  | 'delivery.manage'
  | 'token.manage'
  | 'audit.read'
  | 'report.read'
  | 'queues.admin';

export type Decision = 'allow' | 'forbidden' | 'not_found';

const RANK: Record<Role, number> = { contributor: 0, reviewer: 1, admin: 2 };

export const atLeast = (actor: Pick<Actor, 'role'>, role: Role) => RANK[actor.role] >= RANK[role];

/** `outer` contains `inner` (a unit contains itself). */
export const contains = (outer: string, inner: string) => inner.startsWith(outer);

/** The units an actor sees: contributors their own unit, everyone else their subtree. */
export function seesUnit(actor: Actor, unitPath: string): boolean {
  return atLeast(actor, 'reviewer') ? contains(actor.unitPath, unitPath) : actor.unitPath === unitPath;
}

const allowIf = (ok: boolean): Decision => (ok ? 'allow' : 'forbidden');
const hide = (visible: boolean, then: () => Decision): Decision => (visible ? then() : 'not_found');

export function decide(actor: Actor, action: Action, resource: Resource): Decision {
  switch (resource.type) {
    case 'unit': {
      // Everyone sees the units on the way up to the root too: their names appear on every page.
      const visible = seesUnit(actor, resource.unitPath) || contains(resource.unitPath, actor.unitPath);
      if (action === 'unit.read') return allowIf(visible);
      if (action === 'unit.create')
        // `resource` is the new unit's parent.
        return hide(visible, () =>
          allowIf(atLeast(actor, 'admin') && contains(actor.unitPath, resource.unitPath)),
        );
      if (action === 'unit.update')
        return hide(visible, () =>
          allowIf(atLeast(actor, 'admin') && contains(actor.unitPath, resource.unitPath)),
        );
      break;
    }
    case 'user': {
      const self = resource.userId === actor.userId;
      const visible = self || (atLeast(actor, 'admin') && contains(actor.unitPath, resource.unitPath));
      if (action === 'user.read') return allowIf(visible);
      if (action === 'user.create' || action === 'user.update')
        // An admin manages users of the subtree, never beyond their own role, and not themselves.
        return hide(visible, () =>
          allowIf(
            !self &&
              atLeast(actor, 'admin') &&
              contains(actor.unitPath, resource.unitPath) &&
              RANK[resource.role] <= RANK[actor.role],
          ),
        );
      break;
    }
    case 'post': {
      const ownUnit = actor.unitPath === resource.unitPath;
      // Drafts stay inside the office; reviewers above see a post once it was submitted.
      const visible =
        ownUnit ||
        (atLeast(actor, 'reviewer') &&
          contains(actor.unitPath, resource.unitPath) &&
          resource.status !== 'draft');
      switch (action) {
        case 'post.read':
        case 'post.comment':
          return allowIf(visible);
        case 'post.create':
          return allowIf(ownUnit);
        case 'post.update':
        case 'post.submit':
        case 'post.withdraw':
          return hide(visible, () => allowIf(ownUnit));
        case 'post.review':
          return hide(visible, () =>
            allowIf(atLeast(actor, 'reviewer') && contains(actor.unitPath, resource.unitPath)),
          );
      }
      break;
    }
    case 'channel': {
      // Offices see the channels above them (where their posts may be republished) and their own subtree's.
      const visible = seesUnit(actor, resource.unitPath) || contains(resource.unitPath, actor.unitPath);
      if (action === 'channel.read') return allowIf(visible);
      if (action === 'channel.manage')
        return hide(visible, () =>
          allowIf(atLeast(actor, 'admin') && contains(actor.unitPath, resource.unitPath)),
        );
      if (action === 'channel.target')
        // Reviewers publish only to the channels of their own unit.
        return hide(visible, () =>
          allowIf(atLeast(actor, 'reviewer') && actor.unitPath === resource.unitPath),
        );
      break;
    }
    case 'media': {
      const visible = seesUnit(actor, resource.unitPath);
      if (action === 'media.read') return allowIf(visible);
      if (action === 'media.create' || action === 'media.update')
        return hide(visible, () => allowIf(actor.unitPath === resource.unitPath));
      break;
    }
    case 'delivery': {
      const controlsChannel =
        atLeast(actor, 'reviewer') && contains(actor.unitPath, resource.channelUnitPath);
      const visible = controlsChannel || seesUnit(actor, resource.postUnitPath);
      if (action === 'delivery.read') return allowIf(visible);
      if (action === 'delivery.manage') return hide(visible, () => allowIf(controlsChannel));
      break;
    }
    case 'token':
      if (action === 'token.manage') return resource.ownerId === actor.userId ? 'allow' : 'not_found';
      break;
    case 'audit':
      if (action === 'audit.read')
        return allowIf(atLeast(actor, 'admin') && contains(actor.unitPath, resource.unitPath));
      break;
    case 'report':
      if (action === 'report.read')
        return allowIf(atLeast(actor, 'reviewer') && contains(actor.unitPath, resource.unitPath));
      break;
    case 'queues':
      // The queue dashboard shows every unit's work: admins of the root unit only.
      if (action === 'queues.admin')
        return allowIf(atLeast(actor, 'admin') && actor.unitPath.split('/').length === 3);
      break;
  }
  return 'forbidden';
}
