import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { EventType } from '../events/event.entity.js';
import type { EventService } from '../events/event.service.js';
import { DomainError } from '../graphql/errors.js';
import type { Logger } from '../log.js';
import type { InstanceKeyStore } from '../pgp/instance-key.js';
import { type ConfigKind, type KindContext, type KindHandler } from './config-kind.js';
import { CheckState, ConfigStatus, Configurable, LifecycleError } from './lifecycle.js';

export enum LifecycleAction {
  PREPARE = 'PREPARE',
  CHECK = 'CHECK',
  ACTIVATE = 'ACTIVATE',
  DEACTIVATE = 'DEACTIVATE',
  REMOVE = 'REMOVE',
  /** prepare + check + activate, dependencies first. */
  PCA = 'PCA',
}

/** A short reference to a configuration object in messages and events. */
export interface ConfigRef {
  kind: ConfigKind;
  key: string;
}

/**
 * Runs mini-buildd's lifecycle on configuration objects: dependencies are prepared, checked and activated
 * first; every transition is saved with an event; a failing prepare or check is saved as such (with the
 * reason) before the error goes back to the caller. Actions are serialised: configuration changes are
 * rare and must not interleave.
 */
export class LifecycleService {
  private readonly byEntity = new Map<unknown, KindHandler>();
  private readonly byKind = new Map<ConfigKind, KindHandler>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    handlers: KindHandler[],
    private readonly orm: MikroORM,
    private readonly events: EventService,
    private readonly keys: InstanceKeyStore,
    private readonly dataDir: string,
    private readonly logger: Logger,
    private readonly instanceUrl: () => string = () => '',
  ) {
    for (const h of handlers) {
      this.byEntity.set(h.entity, h);
      this.byKind.set(h.kind, h);
    }
  }

  handler(kind: ConfigKind): KindHandler {
    const h = this.byKind.get(kind);
    if (!h) throw new DomainError('NOT_SUPPORTED', `unknown configuration kind ${kind}`);
    return h;
  }

  handlerOf(o: object): KindHandler {
    const h = this.byEntity.get(o.constructor);
    if (!h) throw new Error(`no configuration kind for ${o.constructor.name}`);
    return h;
  }

  refOf(o: object): ConfigRef {
    const h = this.handlerOf(o);
    return { kind: h.kind, key: h.keyOf(o) };
  }

  async require(em: EntityManager, kind: ConfigKind, key: string): Promise<object> {
    const o = await this.handler(kind).find(em, key);
    if (!o)
      throw new DomainError(
        'NOT_FOUND',
        `there is no ${label(kind)} "${key}": see \`debyard config ${cliKind(kind)} list\``,
      );
    return o;
  }

  /** Runs one action on one object (and, for prepare/activate/PCA, on its dependencies first). */
  run(kind: ConfigKind, key: string, action: LifecycleAction, by: string | null): Promise<object> {
    return this.serialise(async () => {
      const em = this.orm.em.fork();
      const o = await this.require(em, kind, key);
      await this.apply(em, o, action, by, new Set());
      return o;
    });
  }

  /** Serialises a caller's own multi-step work (setup) with the lifecycle actions. */
  serialise<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** The action itself, for callers already inside `serialise`. */
  async apply(
    em: EntityManager,
    o: object,
    action: LifecycleAction,
    by: string | null,
    seen: Set<object>,
  ): Promise<void> {
    const h = this.handlerOf(o);
    if (!h.lifecycle || !(o instanceof Configurable))
      throw new DomainError(
        'NOT_SUPPORTED',
        `${label(h.kind)} has no lifecycle of its own: it is active when what it uses is active`,
      );
    switch (action) {
      case LifecycleAction.PREPARE:
        return this.prepare(em, o, h, by, seen);
      case LifecycleAction.CHECK:
        return this.check(em, o, h, by);
      case LifecycleAction.ACTIVATE:
        return this.activate(em, o, h, by, seen);
      case LifecycleAction.DEACTIVATE:
        return this.transition(em, o, h, by, EventType.CONFIG_DEACTIVATED, 'deactivated', () => o.deactivate());
      case LifecycleAction.REMOVE:
        return this.remove(em, o, h, by);
      case LifecycleAction.PCA:
        await this.prepare(em, o, h, by, seen);
        await this.check(em, o, h, by);
        return this.activate(em, o, h, by, new Set());
    }
  }

  /**
   * Checks every object that failed while active (AUTO_REACTIVATE) again; those that pass become active
   * by themselves. Returns what came back. Run on a schedule by the engine.
   */
  recheckReactivating(): Promise<ConfigRef[]> {
    return this.serialise(async () => {
      const back: ConfigRef[] = [];
      for (const h of this.byKind.values()) {
        if (!h.lifecycle) continue;
        const em = this.orm.em.fork();
        for (const o of await h.list(em)) {
          if (!(o instanceof Configurable) || o.checkState !== CheckState.AUTO_REACTIVATE) continue;
          try {
            await this.check(em, o, h, 'scheduler');
            back.push(this.refOf(o));
          } catch (err) {
            this.logger.info({ kind: h.kind, key: h.keyOf(o), err: message(err) }, 'still failing; will check again');
          }
        }
      }
      return back;
    });
  }

  /**
   * Checks an active (or auto-reactivating) object again on a schedule (a remote, every minute),
   * returning whether it passed. Only changes are recorded: an active object that fails drops to
   * auto-reactivate with CONFIG_FAILED, one that comes back is CONFIG_ACTIVATED; a pass of an active
   * object and another failure of a reactivating one only update it (no event, no mail every minute).
   */
  recheck(kind: ConfigKind, key: string): Promise<boolean> {
    return this.serialise(async () => {
      const em = this.orm.em.fork();
      const o = await this.require(em, kind, key);
      const h = this.handlerOf(o);
      if (!(o instanceof Configurable) || !h.lifecycle || !o.isActiveOrReactivating()) return false;
      const wasActive = o.status === ConfigStatus.ACTIVE;
      try {
        await this.runCheck(em, o, h);
      } catch (err) {
        if (wasActive)
          await this.fail(em, o, h, 'scheduler', 'check', err, () => o.markCheckFailed(message(err))).catch(
            (failed: unknown) => {
              if (!(failed instanceof DomainError)) throw failed;
            },
          );
        else {
          this.logger.debug({ kind, key, err: message(err) }, 'still failing; will check again');
          o.markCheckFailed(message(err));
          await em.flush();
        }
        return false;
      }
      if (wasActive) {
        o.markCheckPassed();
        await em.flush();
      } else await this.passed(em, o, h, 'scheduler');
      return true;
    });
  }

  /** Marks `o`'s dependants changed (after `o` itself was edited), with an event each. */
  async markDependantsChanged(
    em: EntityManager,
    o: object,
    by: string | null,
    seen = new Set<object>(),
  ): Promise<void> {
    const h = this.handlerOf(o);
    for (const d of (await h.dependants?.(em, o)) ?? []) {
      if (seen.has(d)) continue;
      seen.add(d);
      const dh = this.handlerOf(d);
      if (d instanceof Configurable && dh.lifecycle) {
        if (d.status === ConfigStatus.REMOVED || d.checkState === CheckState.CHANGED) continue;
        d.markChanged();
        await em.flush();
        await this.events.record(
          em,
          EventType.CONFIG_CHANGED,
          `${label(dh.kind)} ${dh.keyOf(d)} changed: ${label(h.kind)} ${h.keyOf(o)} changed`,
          { kind: dh.kind, key: dh.keyOf(d), because: this.refOf(o), by },
        );
      }
      await this.markDependantsChanged(em, d, by, seen);
    }
  }

  private async prepare(em: EntityManager, o: Configurable, h: KindHandler, by: string | null, seen: Set<object>) {
    if (seen.has(o)) return;
    seen.add(o);
    for (const dep of (await h.dependencies?.(em, o)) ?? []) {
      if (dep instanceof Configurable && this.handlerOf(dep).lifecycle) {
        if (dep.status === ConfigStatus.ACTIVE && dep.checkState === CheckState.CHECKED) continue;
        await this.pcaDependency(em, dep, by, seen);
      }
    }
    const needed =
      o.status === ConfigStatus.REMOVED || o.checkState === CheckState.CHANGED || o.checkState === CheckState.FAILED;
    if (!needed) return;
    try {
      await h.prepare?.(o, this.context(em));
    } catch (err) {
      await this.fail(em, o, h, by, 'prepare', err, () => o.markPrepareFailed(message(err)));
    }
    await this.transition(em, o, h, by, EventType.CONFIG_PREPARED, 'prepared', () => o.markPrepared());
  }

  private async pcaDependency(em: EntityManager, dep: Configurable, by: string | null, seen: Set<object>) {
    const dh = this.handlerOf(dep);
    await this.prepare(em, dep, dh, by, seen);
    if (dep.checkState !== CheckState.CHECKED) await this.check(em, dep, dh, by);
    if (dep.status !== ConfigStatus.ACTIVE) await this.activate(em, dep, dh, by, new Set());
  }

  private async check(em: EntityManager, o: Configurable, h: KindHandler, by: string | null) {
    if (o.status === ConfigStatus.REMOVED)
      throw new DomainError('LIFECYCLE', `${label(h.kind)} ${h.keyOf(o)} is not prepared: prepare it first`);
    if (o.checkState === CheckState.CHANGED)
      throw new DomainError('LIFECYCLE', `${label(h.kind)} ${h.keyOf(o)} was changed: prepare it again, then check`);
    try {
      await this.runCheck(em, o, h);
    } catch (err) {
      await this.fail(em, o, h, by, 'check', err, () => o.markCheckFailed(message(err)));
    }
    await this.passed(em, o, h, by);
  }

  /** The kind's check, after making sure an active object's dependencies are active too. */
  private async runCheck(em: EntityManager, o: Configurable, h: KindHandler): Promise<void> {
    if (o.isActiveOrReactivating()) {
      const inactive = ((await h.dependencies?.(em, o)) ?? []).filter(
        (d) => d instanceof Configurable && this.handlerOf(d).lifecycle && !d.isActiveOrReactivating(),
      );
      if (inactive.length)
        throw new LifecycleError(
          'DEPENDENCY_INACTIVE',
          `it needs ${inactive.map((d) => this.describeRef(d)).join(', ')} to be active`,
        );
    }
    await h.check?.(o, this.context(em));
  }

  /** Saves a passed check with its event; one that was auto-reactivating is active again. */
  private async passed(em: EntityManager, o: Configurable, h: KindHandler, by: string | null): Promise<void> {
    let reactivated = false;
    await this.transition(em, o, h, by, EventType.CONFIG_CHECKED, 'checked', () => {
      reactivated = o.markCheckPassed();
    });
    if (reactivated)
      await this.events.record(em, EventType.CONFIG_ACTIVATED, `${this.describeRef(o)} active again`, {
        ...this.refOf(o),
        by,
        automatic: true,
      });
  }

  private async activate(em: EntityManager, o: Configurable, h: KindHandler, by: string | null, seen: Set<object>) {
    if (seen.has(o)) return;
    seen.add(o);
    for (const dep of (await h.dependencies?.(em, o)) ?? [])
      if (dep instanceof Configurable && this.handlerOf(dep).lifecycle && dep.status !== ConfigStatus.ACTIVE)
        await this.activate(em, dep, this.handlerOf(dep), by, seen);
    if (o.status === ConfigStatus.ACTIVE) return;
    try {
      await this.transition(em, o, h, by, EventType.CONFIG_ACTIVATED, 'activated', () => o.activate());
    } catch (err) {
      if (err instanceof LifecycleError)
        throw new DomainError('LIFECYCLE', `cannot activate ${this.describeRef(o)}: ${err.message}`);
      throw err;
    }
  }

  private async remove(em: EntityManager, o: Configurable, h: KindHandler, by: string | null) {
    if (o.status === ConfigStatus.REMOVED) return;
    await h.remove?.(o, this.context(em));
    await this.transition(em, o, h, by, EventType.CONFIG_REMOVED, 'removed', () => o.markRemoved());
  }

  private async transition(
    em: EntityManager,
    o: Configurable,
    h: KindHandler,
    by: string | null,
    type: EventType,
    verb: string,
    change: () => void,
  ): Promise<void> {
    await em.transactional(async (tx) => {
      change();
      await tx.flush();
      await this.events.record(tx, type, `${label(h.kind)} ${h.keyOf(o)} ${verb}`, {
        kind: h.kind,
        key: h.keyOf(o),
        status: o.status,
        checkState: o.checkState,
        by,
      });
    });
  }

  /** Saves the failure with its reason and an event, then throws it to the caller. */
  private async fail(
    em: EntityManager,
    o: Configurable,
    h: KindHandler,
    by: string | null,
    step: 'prepare' | 'check',
    err: unknown,
    mark: () => void,
  ): Promise<never> {
    const reason = message(err);
    this.logger.warn({ kind: h.kind, key: h.keyOf(o), step, err }, `${step} failed`);
    await em.transactional(async (tx) => {
      mark();
      await tx.flush();
      await this.events.record(
        tx,
        EventType.CONFIG_FAILED,
        `${label(h.kind)} ${h.keyOf(o)}: ${step} failed: ${reason}`,
        {
          kind: h.kind,
          key: h.keyOf(o),
          step,
          reason,
          code: (err as { code?: unknown }).code ?? null,
          status: o.status,
          checkState: o.checkState,
          by,
        },
      );
    });
    throw new DomainError(
      step === 'prepare' ? 'PREPARE_FAILED' : 'CHECK_FAILED',
      `${step} of ${this.describeRef(o)} failed: ${reason}`,
      {
        kind: h.kind,
        key: h.keyOf(o),
        reason: (err as { code?: unknown }).code ?? null,
      },
    );
  }

  private describeRef(o: object): string {
    const r = this.refOf(o);
    return `${label(r.kind)} ${r.key}`;
  }

  private context(em: EntityManager): KindContext {
    return { em, keys: this.keys, dataDir: this.dataDir, logger: this.logger, instanceUrl: this.instanceUrl };
  }
}

export function label(kind: ConfigKind): string {
  return kind.toLowerCase().replace('_', ' ');
}

export function cliKind(kind: ConfigKind): string {
  return kind.toLowerCase().replace('_', '-');
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
