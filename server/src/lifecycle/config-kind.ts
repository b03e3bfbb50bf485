import type { EntityManager } from '@mikro-orm/postgresql';
import { registerEnumType } from 'type-graphql';
import type { Role } from '../auth/role.js';
import { DomainError } from '../graphql/errors.js';
import type { Logger } from '../log.js';
import type { InstanceKeyStore } from '../pgp/instance-key.js';

/** Every kind of configuration object, as the API and the CLI name them. */
export enum ConfigKind {
  DAEMON = 'DAEMON',
  ARCHIVE = 'ARCHIVE',
  APT_KEY = 'APT_KEY',
  SOURCE = 'SOURCE',
  DISTRIBUTION = 'DISTRIBUTION',
  LAYOUT = 'LAYOUT',
  REPOSITORY = 'REPOSITORY',
  UPLOADER = 'UPLOADER',
  CHROOT = 'CHROOT',
  REMOTE = 'REMOTE',
}
registerEnumType(ConfigKind, { name: 'ConfigKind', description: 'A kind of configuration object' });

export enum FieldType {
  STRING = 'STRING',
  TEXT = 'TEXT',
  BOOLEAN = 'BOOLEAN',
  INT = 'INT',
  ENUM = 'ENUM',
  STRING_LIST = 'STRING_LIST',
  REFERENCE = 'REFERENCE',
  REFERENCE_LIST = 'REFERENCE_LIST',
  JSON = 'JSON',
}
registerEnumType(FieldType, { name: 'ConfigFieldType' });

/** A field a wrong value was given for; the API puts `field` into the error's extensions. */
export class FieldError extends DomainError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super('BAD_USER_INPUT', `${field}: ${message}`, { field });
  }
}

/** What kinds need from the daemon to prepare, check and remove. */
export interface KindContext {
  em: EntityManager;
  keys: InstanceKeyStore;
  dataDir: string;
  logger: Logger;
  /** This instance's public HTTP URL (what remotes list us as); the lifecycle gives it, other callers need not. */
  instanceUrl?(): string;
}

/** One editable (or read-only) field of a kind; values travel as JSON (references as keys). */
export interface FieldSpec<T> {
  name: string;
  type: FieldType;
  description: string;
  /** ENUM values, or the kind a REFERENCE points to. */
  options?: readonly string[];
  refKind?: ConfigKind;
  readOnly?: boolean;
  /** Read when used (mail settings): editing it needs no new prepare and check, so marks nothing changed. */
  live?: boolean;
  get(o: T): unknown;
  /** Validates and assigns; throws a FieldError. Loaded collections may be assumed. */
  set?(em: EntityManager, o: T, value: unknown): Promise<void> | void;
}

/**
 * Everything the generic lifecycle and setup code need to know about one kind. Kinds without a
 * lifecycle (distributions, layouts) only edit and mark their dependants changed.
 */
export interface KindHandler<T extends object = object> {
  kind: ConfigKind;
  entity: abstract new (...args: never[]) => T;
  lifecycle: boolean;
  /** Who may read its objects (they name people, say); everybody when unset. Writing always needs ADMIN. */
  readRole?: Role;
  keyOf(o: T): string;
  describe(o: T): string;
  list(em: EntityManager): Promise<T[]>;
  find(em: EntityManager, key: string): Promise<T | null>;
  /** A new, unsaved object for `key`; its fields are set afterwards. */
  create(em: EntityManager, key: string): Promise<T>;
  /** Loads what `get`/`set` of the fields read (collections, references). */
  load?(em: EntityManager, o: T): Promise<void>;
  fields: FieldSpec<T>[];
  /** Objects that must be prepared and active before this one. */
  dependencies?(em: EntityManager, o: T): Promise<object[]>;
  /** Objects that become CHANGED when this one changes. */
  dependants?(em: EntityManager, o: T): Promise<object[]>;
  prepare?(o: T, ctx: KindContext): Promise<void>;
  check?(o: T, ctx: KindContext): Promise<void>;
  remove?(o: T, ctx: KindContext): Promise<void>;
}

export function parseString(
  field: string,
  v: unknown,
  opts: { pattern?: RegExp; hint?: string; empty?: boolean } = {},
): string {
  if (typeof v !== 'string') throw new FieldError(field, `expected text, got ${JSON.stringify(v)}`);
  const s = v.trim();
  if (!s && !opts.empty) throw new FieldError(field, 'must not be empty');
  if (s && opts.pattern && !opts.pattern.test(s))
    throw new FieldError(field, `"${s}" is not valid${opts.hint ? `: ${opts.hint}` : ''}`);
  return s;
}

export function parseBoolean(field: string, v: unknown): boolean {
  if (typeof v === 'boolean') return v;
  if (v === 'true' || v === 'yes') return true;
  if (v === 'false' || v === 'no') return false;
  throw new FieldError(field, `expected true or false, got ${JSON.stringify(v)}`);
}

export function parseInt(field: string, v: unknown, min: number, max: number): number {
  const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max)
    throw new FieldError(field, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

export function parseEnum<E extends string>(field: string, v: unknown, values: readonly E[]): E {
  const s = typeof v === 'string' ? v.trim().toUpperCase() : v;
  const hit = values.find((x) => x.toUpperCase() === s);
  if (!hit) throw new FieldError(field, `expected one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
  return hit;
}

export function parseStringList(field: string, v: unknown, pattern?: RegExp, hint?: string): string[] {
  const items = typeof v === 'string' ? v.split(/[\s,]+/).filter(Boolean) : v;
  if (!Array.isArray(items) || items.some((i) => typeof i !== 'string'))
    throw new FieldError(field, `expected a list of names, got ${JSON.stringify(v)}`);
  const list = [...new Set(items.map((i: string) => i.trim()).filter(Boolean))];
  for (const i of list)
    if (pattern && !pattern.test(i)) throw new FieldError(field, `"${i}" is not valid${hint ? `: ${hint}` : ''}`);
  return list;
}

export function parseJsonObject(field: string, v: unknown): Record<string, string> {
  let o = v;
  if (typeof v === 'string') {
    try {
      o = JSON.parse(v || '{}');
    } catch {
      throw new FieldError(field, 'expected a JSON object of strings, e.g. {"Label": "Debian-Security"}');
    }
  }
  if (!o || typeof o !== 'object' || Array.isArray(o) || Object.values(o).some((x) => typeof x !== 'string'))
    throw new FieldError(field, 'expected a JSON object of strings, e.g. {"Label": "Debian-Security"}');
  return o as Record<string, string>;
}

/** Checks that every key named in a reference list was found; the message names the missing ones. */
export function requireAll<T>(field: string, what: string, keys: string[], found: T[], keyOf: (t: T) => string): T[] {
  const missing = keys.filter((k) => !found.some((f) => keyOf(f) === k));
  if (missing.length) throw new FieldError(field, `no such ${what}: ${missing.join(', ')} (add it first)`);
  return keys.map((k) => found.find((f) => keyOf(f) === k)!);
}

/**
 * A builder of fields kept in the object's property of the same name, validated by `parse` on the way
 * in: `const field = propertyFields<Distribution>(); field('lintianMode', FieldType.ENUM, …)`.
 */
export function propertyFields<T>() {
  return <K extends keyof T & string>(
    name: K,
    type: FieldType,
    description: string,
    parse: (field: string, value: unknown) => T[K],
    extra: { options?: readonly string[] } = {},
  ): FieldSpec<T> => ({
    name,
    type,
    description,
    ...extra,
    get: (o) => o[name],
    set: (_em, o, v) => {
      o[name] = parse(name, v);
    },
  });
}

/** The parser of a text field matching `pattern` (empty allowed unless `required`). */
export function textParser(pattern: RegExp, hint: string, required = false) {
  return (field: string, v: unknown) => parseString(field, v, { pattern, hint, empty: !required });
}

/** The parser of an ENUM field. */
export function enumParser<E extends string>(values: readonly E[]) {
  return (field: string, v: unknown) => parseEnum(field, v, values);
}
