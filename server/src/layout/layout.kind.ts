import type { EntityManager } from '@mikro-orm/postgresql';
import {
  ConfigKind,
  FieldError,
  FieldType,
  parseJsonObject,
  parseString,
  propertyFields,
  type KindHandler,
} from '../lifecycle/config-kind.js';
import { Repository } from '../repository/repository.entity.js';
import { Layout, Suite, SuiteOption } from './layout.entity.js';

export interface SuiteSpec {
  name: string;
  uploadable?: boolean;
  experimental?: boolean;
  migratesTo?: string | null;
  rollbacks?: number;
  buildKeyringPackage?: boolean;
  notAutomatic?: boolean;
  butAutomaticUpgrades?: boolean;
}

const SUITE_KEYS = [
  'uploadable',
  'experimental',
  'migratesTo',
  'rollbacks',
  'buildKeyringPackage',
  'notAutomatic',
  'butAutomaticUpgrades',
] as const;

/** Fills in %IDENTITY% and %CODEVERSION% (mini-buildd's placeholders). */
export function expandVersionRule(rule: string, identity: string, codeversion: string): string {
  return rule.replaceAll('%IDENTITY%', identity).replaceAll('%CODEVERSION%', codeversion);
}

function parseRegexRule(field: string, v: unknown): string {
  const s = parseString(field, v);
  try {
    new RegExp(expandVersionRule(s, 'test', '12'));
  } catch (err) {
    throw new FieldError(field, `"${s}" is not a valid pattern: ${(err as Error).message}`);
  }
  return s;
}

function parseVersionSuffix(field: string, v: unknown): string {
  const s = parseString(field, v);
  if (!/^[A-Za-z0-9.+~]*$/.test(expandVersionRule(s, 'test', '12')))
    throw new FieldError(
      field,
      `"${s}" would not give a valid Debian version suffix (letters, digits, .+~ and the placeholders)`,
    );
  return s;
}

/** Checks a whole suite list at once: names, references, and mini-buildd's rules between the flags. */
export function parseSuites(v: unknown): SuiteSpec[] {
  let list = v;
  if (typeof v === 'string') {
    try {
      list = JSON.parse(v);
    } catch {
      throw new FieldError(
        'suites',
        'expected a JSON list of suites, e.g. [{"name":"unstable","migratesTo":"testing"}]',
      );
    }
  }
  if (!Array.isArray(list) || !list.length) throw new FieldError('suites', 'expected a non-empty list of suites');
  const specs = list.map((raw, i): SuiteSpec => {
    if (!raw || typeof raw !== 'object') throw new FieldError('suites', `entry ${i + 1} is not an object`);
    const r = raw as Record<string, unknown>;
    const unknown = Object.keys(r).filter((k) => k !== 'name' && !(SUITE_KEYS as readonly string[]).includes(k));
    if (unknown.length)
      throw new FieldError('suites', `unknown suite option ${unknown.join(', ')} (known: ${SUITE_KEYS.join(', ')})`);
    if (typeof r.name !== 'string' || !/^[a-z]+$/.test(r.name))
      throw new FieldError('suites', `suite names are lower-case letters only, not ${JSON.stringify(r.name)}`);
    for (const k of [
      'uploadable',
      'experimental',
      'buildKeyringPackage',
      'notAutomatic',
      'butAutomaticUpgrades',
    ] as const)
      if (r[k] !== undefined && typeof r[k] !== 'boolean')
        throw new FieldError('suites', `${r.name}.${k} must be true or false`);
    if (
      r.rollbacks !== undefined &&
      (!Number.isInteger(r.rollbacks) || (r.rollbacks as number) < 0 || (r.rollbacks as number) > 100)
    )
      throw new FieldError('suites', `${r.name}.rollbacks must be a whole number from 0 to 100`);
    if (r.migratesTo != null && typeof r.migratesTo !== 'string')
      throw new FieldError('suites', `${r.name}.migratesTo must be a suite name`);
    return r as unknown as SuiteSpec;
  });
  const names = specs.map((s) => s.name);
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup) throw new FieldError('suites', `suite ${dup} is listed twice`);
  for (const s of specs) {
    const uploadable = s.uploadable ?? true;
    if (s.migratesTo === s.name) throw new FieldError('suites', `suite ${s.name} migrates to itself`);
    if (s.migratesTo) {
      const target = specs.find((t) => t.name === s.migratesTo);
      if (!target)
        throw new FieldError('suites', `suite ${s.name} migrates to ${s.migratesTo}, which is not in the layout`);
      if (target.uploadable ?? true)
        throw new FieldError(
          'suites',
          `suite ${s.name} migrates to ${s.migratesTo}, which is uploadable; migration targets take no uploads`,
        );
    }
    if (s.experimental && (!uploadable || s.migratesTo))
      throw new FieldError('suites', `experimental suite ${s.name} must be uploadable and must not migrate`);
    if (s.buildKeyringPackage && !uploadable)
      throw new FieldError('suites', `suite ${s.name} builds the keyring package, so it must be uploadable`);
  }
  // A migration chain must end: no cycles.
  for (const s of specs) {
    const seen = new Set<string>();
    for (let at: SuiteSpec | undefined = s; at?.migratesTo; at = specs.find((t) => t.name === at!.migratesTo)) {
      if (seen.has(at.name)) throw new FieldError('suites', `the migrations from ${s.name} go round in a circle`);
      seen.add(at.name);
    }
  }
  return specs;
}

export function suiteSpecOf(o: SuiteOption): SuiteSpec {
  return {
    name: o.suite.name,
    uploadable: o.uploadable,
    experimental: o.experimental,
    migratesTo: o.migratesTo,
    rollbacks: o.rollbacks,
    buildKeyringPackage: o.buildKeyringPackage,
    notAutomatic: o.notAutomatic,
    butAutomaticUpgrades: o.butAutomaticUpgrades,
  };
}

const field = propertyFields<Layout>();

export const layoutKind: KindHandler<Layout> = {
  kind: ConfigKind.LAYOUT,
  entity: Layout,
  lifecycle: false,
  keyOf: (l) => l.name,
  describe: (l) =>
    l.suiteOptions.isInitialized()
      ? `${l.name}: ${l.suiteOptions
          .getItems()
          .map((o) => o.suite.name)
          .join(', ')}`
      : l.name,
  list: (em) => em.find(Layout, {}, { populate: ['suiteOptions.suite'], orderBy: { name: 'asc' } }),
  find: (em, key) => em.findOne(Layout, { name: key }, { populate: ['suiteOptions.suite'] }),
  create: async (em, key) =>
    em.create(
      Layout,
      { name: parseString('name', key, { pattern: /^[A-Za-z0-9][A-Za-z0-9 ()._-]{0,62}$/, hint: 'e.g. Default' }) },
      { persist: false },
    ),
  load: async (em, l) => {
    await em.populate(l, ['suiteOptions.suite']);
  },
  fields: [
    { name: 'name', type: FieldType.STRING, readOnly: true, description: 'The layout’s name', get: (l) => l.name },
    {
      name: 'suites',
      type: FieldType.JSON,
      description: 'The suites and how they behave, in order',
      get: (l) => l.suiteOptions.getItems().map(suiteSpecOf),
      set: async (em: EntityManager, l, v) => {
        const specs = parseSuites(v);
        const options: SuiteOption[] = [];
        for (const spec of specs) {
          const suite = (await em.findOne(Suite, { name: spec.name })) ?? em.create(Suite, { name: spec.name });
          const o =
            l.suiteOptions.getItems().find((x) => x.suite.name === spec.name) ??
            em.create(SuiteOption, { layout: l, suite });
          Object.assign(o, {
            uploadable: spec.uploadable ?? true,
            experimental: spec.experimental ?? false,
            migratesTo: spec.migratesTo ?? null,
            rollbacks: spec.rollbacks ?? 0,
            buildKeyringPackage: spec.buildKeyringPackage ?? false,
            notAutomatic: spec.notAutomatic ?? true,
            butAutomaticUpgrades: spec.butAutomaticUpgrades ?? true,
          });
          options.push(o);
        }
        l.suiteOptions.set(options);
      },
    },
    field(
      'defaultVersion',
      FieldType.STRING,
      'Version suffix of ports, e.g. ~%IDENTITY%%CODEVERSION%+1',
      parseVersionSuffix,
    ),
    field(
      'mandatoryVersionRegex',
      FieldType.STRING,
      'Uploads to normal suites must match (a regular expression, searched)',
      parseRegexRule,
    ),
    field(
      'experimentalDefaultVersion',
      FieldType.STRING,
      'Version suffix of ports to experimental suites',
      parseVersionSuffix,
    ),
    field(
      'experimentalMandatoryVersionRegex',
      FieldType.STRING,
      'Uploads to experimental suites must match',
      parseRegexRule,
    ),
    {
      name: 'metaDistributions',
      type: FieldType.JSON,
      description: 'Short distribution names, e.g. {"unstable": "sid-unstable"}',
      get: (l) => l.metaDistributions,
      set: (_em, l, v) => {
        const o = parseJsonObject('metaDistributions', v);
        for (const [k, target] of Object.entries(o)) {
          if (!/^[a-z0-9-]+$/.test(k)) throw new FieldError('metaDistributions', `"${k}" is not a distribution name`);
          if (!/^[a-z0-9]+-[a-z]+$/.test(target))
            throw new FieldError('metaDistributions', `"${target}" is not <codename>-<suite>`);
        }
        l.metaDistributions = o;
      },
    },
  ],
  dependants: (em, l) => em.find(Repository, { layout: l }),
};
