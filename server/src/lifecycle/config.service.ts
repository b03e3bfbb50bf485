import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { EventType } from '../events/event.entity.js';
import type { EventService } from '../events/event.service.js';
import { DomainError } from '../graphql/errors.js';
import { FieldError, type ConfigKind, type KindHandler } from './config-kind.js';
import { Configurable } from './lifecycle.js';
import { label, type LifecycleService } from './lifecycle.service.js';

export type FieldValues = Record<string, unknown>;

/** A field's value that would change: what it is and what it would become. */
export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

/** Field values as they compare: lists of references are sets, everything as JSON. */
export function comparable(v: unknown): string {
  return JSON.stringify(v ?? null);
}

/**
 * Creates and edits configuration objects through their kinds' field specs (one place validates every
 * value), marks edited lifecycle objects and their dependants changed, and records what changed.
 */
export class ConfigService {
  constructor(
    private readonly orm: MikroORM,
    private readonly events: EventService,
    readonly lifecycle: LifecycleService,
  ) {}

  async list(em: EntityManager, kind: ConfigKind): Promise<object[]> {
    const h = this.lifecycle.handler(kind);
    const all = await h.list(em);
    for (const o of all) await h.load?.(em, o);
    return all;
  }

  async get(em: EntityManager, kind: ConfigKind, key: string): Promise<object> {
    const o = await this.lifecycle.require(em, kind, key);
    await this.lifecycle.handler(kind).load?.(em, o);
    return o;
  }

  values(kind: ConfigKind, o: object): FieldValues {
    const h = this.lifecycle.handler(kind) as KindHandler<object>;
    return Object.fromEntries(h.fields.map((f) => [f.name, f.get(o)]));
  }

  /**
   * Applies `values` to the object `key` (creating it when `create` is set and it is missing). Nothing is
   * saved unless every value is valid. Returns the object and what changed.
   */
  set(
    kind: ConfigKind,
    key: string,
    values: FieldValues,
    opts: { create: boolean; by: string | null },
  ): Promise<{ object: object; changes: FieldChange[]; created: boolean }> {
    return this.lifecycle.serialise(() => this.setNow(this.orm.em.fork(), kind, key, values, opts));
  }

  /** `set` for callers already serialised with the lifecycle (setup). */
  async setNow(
    em: EntityManager,
    kind: ConfigKind,
    key: string,
    values: FieldValues,
    opts: { create: boolean; by: string | null },
  ): Promise<{ object: object; changes: FieldChange[]; created: boolean }> {
    const h = this.lifecycle.handler(kind) as KindHandler<object>;
    return em.transactional(async (tx) => {
      let o = await h.find(tx, key);
      const created = !o;
      if (!o) {
        if (!opts.create)
          throw new DomainError('NOT_FOUND', `there is no ${label(kind)} "${key}" (create it with --create)`);
        o = await h.create(tx, key);
      } else await h.load?.(tx, o);
      const changes = await this.assign(tx, h, o, values);
      if (created) tx.persist(o);
      await tx.flush();
      if (created)
        await this.events.record(tx, EventType.CONFIG_CREATED, `${label(kind)} ${h.keyOf(o)} created`, {
          kind,
          key: h.keyOf(o),
          values: Object.fromEntries(changes.map((c) => [c.field, c.to])),
          by: opts.by,
        });
      else if (changes.length) {
        const needsCheck = changes.some((c) => !h.fields.find((f) => f.name === c.field)?.live);
        if (o instanceof Configurable && h.lifecycle && needsCheck) o.markChanged();
        await tx.flush();
        await this.events.record(
          tx,
          EventType.CONFIG_EDITED,
          `${label(kind)} ${h.keyOf(o)} edited: ${changes.map((c) => c.field).join(', ')}`,
          { kind, key: h.keyOf(o), changes, by: opts.by },
        );
        if (needsCheck) await this.lifecycle.markDependantsChanged(tx, o, opts.by);
      }
      return { object: o, changes, created };
    });
  }

  /** What `values` would change on `o`, without changing it (for setup's dry run). */
  diff(kind: ConfigKind, o: object, values: FieldValues): FieldChange[] {
    const h = this.lifecycle.handler(kind) as KindHandler<object>;
    return Object.entries(values)
      .map(([field, to]) => ({ field, from: h.fields.find((f) => f.name === field)?.get(o), to }))
      .filter((c) => comparable(normalise(c.from)) !== comparable(normalise(c.to)))
      .map((c) => ({ ...c, from: c.from ?? null }));
  }

  private async assign(
    em: EntityManager,
    h: KindHandler<object>,
    o: object,
    values: FieldValues,
  ): Promise<FieldChange[]> {
    const changes: FieldChange[] = [];
    for (const [name, value] of Object.entries(values)) {
      const field = h.fields.find((f) => f.name === name);
      if (!field)
        throw new FieldError(
          name,
          `${label(h.kind)} has no such field; it has ${h.fields.map((f) => f.name).join(', ')}`,
        );
      if (field.readOnly || !field.set) throw new FieldError(name, 'is read-only');
      const before = comparable(normalise(field.get(o)));
      await field.set(em, o, value);
      const after = field.get(o);
      if (before !== comparable(normalise(after))) changes.push({ field: name, from: JSON.parse(before), to: after });
    }
    return changes;
  }
}

/** Lists of names compare as sets where order carries no meaning (the kinds sort those already). */
function normalise(v: unknown): unknown {
  return v === undefined ? null : v;
}
