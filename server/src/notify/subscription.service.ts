import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import { Role, roleIncludes } from '../auth/role.js';
import { User } from '../auth/user.entity.js';
import { EventType } from '../events/event.entity.js';
import type { EventService } from '../events/event.service.js';
import { DomainError } from '../graphql/errors.js';
import { PackageSubscription } from './subscription.entity.js';

const SOURCE = /^[a-z0-9][a-z0-9.+-]+$/;
const DISTRIBUTION = /^[a-z0-9][a-z0-9.+-]*$/;

/** Subscriptions: each user manages their own; an administrator anybody's. Every change is an event. */
export class SubscriptionService {
  constructor(private readonly events: EventService) {}

  /** `actor`'s subscriptions, or `username`'s for an administrator. */
  async list(em: EntityManager, actor: User, username?: string | null): Promise<PackageSubscription[]> {
    const user = await this.subject(em, actor, username);
    return em.find(PackageSubscription, { user }, { populate: ['user'], orderBy: { id: 'asc' } });
  }

  async subscribe(
    em: EntityManager,
    actor: User,
    input: { source?: string | null; distribution?: string | null; username?: string | null },
  ): Promise<PackageSubscription> {
    const source = checked('source', input.source, SOURCE, 'a source package name, e.g. hello');
    const distribution = checked(
      'distribution',
      input.distribution,
      DISTRIBUTION,
      'a distribution, e.g. bookworm-test-unstable',
    );
    const user = await this.subject(em, actor, input.username);
    const sub = em.create(
      PackageSubscription,
      { user, sourceFilter: source, distributionFilter: distribution },
      { persist: false },
    );
    const exists = () =>
      new DomainError('ALREADY_EXISTS', `${user.username} is already subscribed to ${sub.describe()}`);
    if (await em.count(PackageSubscription, { user, sourceFilter: source, distributionFilter: distribution }))
      throw exists();
    try {
      return await em.transactional(async (tx) => {
        tx.persist(sub);
        await tx.flush();
        await this.events.record(tx, EventType.SUBSCRIBED, `${user.username} subscribed to ${sub.describe()}`, {
          subscription: sub.id,
          username: user.username,
          source: sub.source,
          distribution: sub.distribution,
          by: actor.username,
        });
        return sub;
      });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw exists();
      throw err;
    }
  }

  /** Ends a subscription: one's own, or anybody's as an administrator. */
  async unsubscribe(em: EntityManager, actor: User, id: number): Promise<PackageSubscription> {
    return em.transactional(async (tx) => {
      const sub = await tx.findOne(PackageSubscription, id, { populate: ['user'] });
      if (!sub) throw new DomainError('NOT_FOUND', `there is no subscription ${id}`);
      if (sub.user.id !== actor.id && !roleIncludes(actor.role, Role.ADMIN))
        throw new DomainError('FORBIDDEN', `subscription ${id} is not yours; only an administrator can end it`, {
          requiredRole: Role.ADMIN,
        });
      tx.remove(sub);
      await tx.flush();
      await this.events.record(tx, EventType.UNSUBSCRIBED, `${sub.user.username} unsubscribed from ${sub.describe()}`, {
        subscription: id,
        username: sub.user.username,
        source: sub.source,
        distribution: sub.distribution,
        by: actor.username,
      });
      return sub;
    });
  }

  private async subject(em: EntityManager, actor: User, username?: string | null): Promise<User> {
    if (!username || username === actor.username) return em.findOneOrFail(User, actor.id);
    if (!roleIncludes(actor.role, Role.ADMIN))
      throw new DomainError('FORBIDDEN', 'only an administrator can see or change another user’s subscriptions', {
        requiredRole: Role.ADMIN,
      });
    const user = await em.findOne(User, { username });
    if (!user) throw new DomainError('NOT_FOUND', `there is no user "${username}"`, { field: 'username' });
    return user;
  }
}

function checked(field: string, v: string | null | undefined, pattern: RegExp, hint: string): string {
  const s = (v ?? '').trim();
  if (s && !pattern.test(s))
    throw new DomainError('BAD_USER_INPUT', `${field}: "${s}" is not valid: ${hint} (or leave it out for all)`, {
      field,
    });
  return s;
}
