import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { Role, roleIncludes } from '../auth/role.js';
import type { User } from '../auth/user.entity.js';
import { EventType } from '../events/event.entity.js';
import type { EventService } from '../events/event.service.js';
import { DomainError } from '../graphql/errors.js';
import { ConfigKind } from '../lifecycle/config-kind.js';
import type { ConfigService } from '../lifecycle/config.service.js';
import { LifecycleAction } from '../lifecycle/lifecycle.service.js';
import { inspectUploaderKey } from './uploader.kind.js';
import { Uploader } from './uploader.entity.js';

const FINGERPRINT = /^[0-9A-F]{40}$/;

/**
 * Uploader keys as people handle them: a user adds a key to their profile (prepared and checked at once),
 * staff activate it for repositories. Everything goes through the UPLOADER kind and its lifecycle, so the
 * configuration pages, `debyard config uploader` and the upload checks see the same objects.
 */
export class UploaderKeyService {
  constructor(
    private readonly orm: MikroORM,
    private readonly config: ConfigService,
    private readonly events: EventService,
  ) {}

  /**
   * Adds an armored public key to `actor`'s profile, prepared and checked. Refused with KEY_INVALID,
   * KEY_EXPIRED, KEY_REVOKED, KEY_WEAK, or ALREADY_EXISTS when the fingerprint is known here.
   */
  async add(actor: User, armored: string): Promise<Uploader> {
    const { info } = await inspectUploaderKey(armored);
    const fingerprint = info.fingerprint;
    const by = actor.username;
    // Looked up and created in one step of the lifecycle's queue: two people adding one key cannot both win.
    await this.config.lifecycle.serialise(async () => {
      const em = this.orm.em.fork();
      const existing = await em.findOne(Uploader, { fingerprint }, { populate: ['user'] });
      if (existing)
        throw new DomainError(
          'ALREADY_EXISTS',
          existing.user?.id === actor.id
            ? `key ${fingerprint} is on your profile already`
            : `key ${fingerprint} belongs to ${existing.user ? 'another user' : 'nobody yet'} here: one key, one person; ask the staff if it is yours`,
        );
      await this.config.setNow(em, ConfigKind.UPLOADER, fingerprint, { armored, user: by }, { create: true, by });
    });
    await this.config.lifecycle.run(ConfigKind.UPLOADER, fingerprint, LifecycleAction.PREPARE, by);
    await this.config.lifecycle.run(ConfigKind.UPLOADER, fingerprint, LifecycleAction.CHECK, by);
    return this.require(this.orm.em.fork(), fingerprint);
  }

  /** `actor`'s keys. */
  mine(em: EntityManager, actor: User): Promise<Uploader[]> {
    return em.find(
      Uploader,
      { user: actor.id },
      { populate: ['user', 'repositories'], orderBy: { fingerprint: 'asc' } },
    );
  }

  /** Every uploader key, by fingerprint. */
  all(em: EntityManager): Promise<Uploader[]> {
    return em.find(Uploader, {}, { populate: ['user', 'repositories'], orderBy: { fingerprint: 'asc' } });
  }

  /** Removes a key from the profile (one's own; staff any): uploads signed by it are refused at once. */
  async remove(actor: User, fingerprint: string): Promise<void> {
    const fpr = normalise(fingerprint);
    await this.config.lifecycle.serialise(() =>
      this.orm.em.fork().transactional(async (tx) => {
        const key = await tx.findOne(Uploader, { fingerprint: fpr }, { populate: ['user', 'repositories'] });
        if (!key || (key.user?.id !== actor.id && !roleIncludes(actor.role, Role.STAFF)))
          throw new DomainError('NOT_FOUND', `there is no key ${fpr} on your profile: see \`debyard key show\``);
        const owner = key.username;
        key.repositories.removeAll();
        tx.remove(key);
        await tx.flush();
        await this.events.record(tx, EventType.CONFIG_REMOVED, `uploader ${fpr} of ${owner ?? 'nobody'} deleted`, {
          kind: ConfigKind.UPLOADER,
          key: fpr,
          username: owner,
          deleted: true,
          by: actor.username,
        });
      }),
    );
  }

  /**
   * Grants `repositories` and activates the key (prepare, check, activate). Its user must be active;
   * refused with USER_STATE otherwise.
   */
  async activate(actor: User, fingerprint: string, repositories: string[]): Promise<Uploader> {
    const fpr = normalise(fingerprint);
    if (!repositories.length)
      throw new DomainError('BAD_USER_INPUT', 'grant at least one repository, e.g. --repository test', {
        field: 'repositories',
      });
    const key = await this.require(this.orm.em.fork(), fpr);
    const inactive = key.user ? key.user.inactiveReason : `key ${fpr} belongs to no user`;
    if (inactive) throw new DomainError('USER_STATE', `${inactive}: a key is activated only for an active user`);
    const by = actor.username;
    await this.config.set(ConfigKind.UPLOADER, fpr, { repositories }, { create: false, by });
    await this.config.lifecycle.run(ConfigKind.UPLOADER, fpr, LifecycleAction.PCA, by);
    return this.require(this.orm.em.fork(), fpr);
  }

  /** Deactivates the key: uploads signed by it are refused from now on. */
  async deactivate(actor: User, fingerprint: string): Promise<Uploader> {
    const fpr = normalise(fingerprint);
    await this.config.lifecycle.run(ConfigKind.UPLOADER, fpr, LifecycleAction.DEACTIVATE, actor.username);
    return this.require(this.orm.em.fork(), fpr);
  }

  private async require(em: EntityManager, fingerprint: string): Promise<Uploader> {
    const key = await em.findOne(Uploader, { fingerprint }, { populate: ['user', 'repositories'] });
    if (!key) throw new DomainError('NOT_FOUND', `there is no uploader key ${fingerprint}: see \`debyard key list\``);
    return key;
  }
}

/** A fingerprint as people paste it (spaces, lower case) as stored; refused if it is not one. */
function normalise(fingerprint: string): string {
  const fpr = fingerprint.replace(/\s+/g, '').toUpperCase();
  if (!FINGERPRINT.test(fpr))
    throw new DomainError('BAD_USER_INPUT', `"${fingerprint}" is not a key fingerprint (40 hex digits)`, {
      field: 'fingerprint',
    });
  return fpr;
}
