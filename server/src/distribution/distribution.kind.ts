import type { EntityManager } from '@mikro-orm/postgresql';
import { PrioritySource } from '../archive/priority-source.entity.js';
import { parseSourceKey } from '../archive/source.kind.js';
import { Source } from '../archive/source.entity.js';
import {
  ConfigKind,
  FieldError,
  FieldType,
  parseInt,
  parseString,
  parseStringList,
  enumParser,
  propertyFields,
  textParser,
  type KindHandler,
} from '../lifecycle/config-kind.js';
import { Repository } from '../repository/repository.entity.js';
import {
  Architecture,
  ArchitectureOption,
  BuildDepResolver,
  Component,
  Distribution,
  QaMode,
} from './distribution.entity.js';

const ARCH = /^[a-z0-9][a-z0-9-]*$/;
const COMPONENT = /^[a-z0-9][a-z0-9/.-]*$/;
const BUILD_OPTIONS = /^[A-Za-z0-9=_.,+ -]*$/;
const OPTIONS_HINT = 'letters, digits and =_.,+- separated by spaces';
const QA_MODES = Object.values(QaMode);
const RESOLVERS = Object.values(BuildDepResolver);
const QA_MODE_HELP = (tool: string) => `${tool}: disabled, ignore, fail on errors, fail on warnings`;
const field = propertyFields<Distribution>();

/** Components in archive order: main first, then the rest by name. */
export function sortComponents(names: string[]): string[] {
  return [...names].sort((a, b) => (a === 'main' ? -1 : b === 'main' ? 1 : a.localeCompare(b)));
}

async function findByCodename(em: EntityManager, codename: string): Promise<Distribution | null> {
  const found = await em.find(Distribution, { baseSource: { codename } }, { populate: ['baseSource'] });
  if (found.length > 1)
    throw new FieldError(
      'key',
      `several distributions are based on a "${codename}" source; there must be one per codename`,
    );
  return found[0] ?? null;
}

/** `Debian:bookworm-security:500`, the way extra sources are named. */
function parsePrioritySourceKey(key: string): { source: { origin: string; codename: string }; priority: number } {
  const m = /^(.+):(-?\d+)$/.exec(key.trim());
  if (!m)
    throw new FieldError('extraSources', `"${key}" is not ORIGIN:CODENAME:PRIORITY, e.g. Debian:bookworm-security:500`);
  return { source: parseSourceKey(m[1]!), priority: Number(m[2]) };
}

export const distributionKind: KindHandler<Distribution> = {
  kind: ConfigKind.DISTRIBUTION,
  entity: Distribution,
  lifecycle: false,
  keyOf: (d) => d.baseSource.codename,
  describe: (d) =>
    `${d.baseSource.key} on ${
      d.architectureOptions.isInitialized()
        ? d.architectureOptions
            .getItems()
            .map((o) => o.architecture.name)
            .join(', ')
        : '…'
    }`,
  list: (em) => em.find(Distribution, {}, { populate: ['baseSource', 'architectureOptions.architecture'] }),
  find: (em, key) => findByCodename(em, key),
  create: async (em, key) => {
    const sources = await em.find(Source, { codename: key });
    if (sources.length !== 1)
      throw new FieldError(
        'key',
        sources.length
          ? `several sources are called "${key}"`
          : `there is no source "${key}": add it first (e.g. Debian:${key})`,
      );
    return em.create(Distribution, { baseSource: sources[0]! }, { persist: false });
  },
  load: async (em, d) => {
    await em.populate(d, ['baseSource', 'extraSources.source', 'components', 'architectureOptions.architecture']);
  },
  fields: [
    {
      name: 'baseSource',
      type: FieldType.REFERENCE,
      refKind: ConfigKind.SOURCE,
      readOnly: true,
      description: 'What is built against',
      get: (d) => d.baseSource.key,
    },
    {
      name: 'extraSources',
      type: FieldType.REFERENCE_LIST,
      refKind: ConfigKind.SOURCE,
      description: 'More sources with their APT priority, ORIGIN:CODENAME:PRIORITY',
      get: (d) =>
        d.extraSources
          .getItems()
          .map((p) => p.key)
          .sort(),
      set: async (em, d, v) => {
        const wanted = parseStringList('extraSources', v).map(parsePrioritySourceKey);
        const items: PrioritySource[] = [];
        for (const w of wanted) {
          const source = await em.findOne(Source, w.source);
          if (!source)
            throw new FieldError('extraSources', `there is no source ${w.source.origin}:${w.source.codename}`);
          if (w.priority < -1000 || w.priority > 1000)
            throw new FieldError('extraSources', `priority ${w.priority} is out of range`);
          items.push(
            (await em.findOne(PrioritySource, { source, priority: w.priority })) ??
              em.create(PrioritySource, { source, priority: w.priority }),
          );
        }
        d.extraSources.set(items);
      },
    },
    {
      name: 'components',
      type: FieldType.STRING_LIST,
      description: 'Components built and published; must include main',
      get: (d) => sortComponents(d.components.getItems().map((c) => c.name)),
      set: async (em, d, v) => {
        const names = parseStringList('components', v, COMPONENT, 'e.g. main contrib non-free');
        if (!names.includes('main')) throw new FieldError('components', 'must include main');
        d.components.set(
          await Promise.all(
            names.map(async (name) => (await em.findOne(Component, { name })) ?? em.create(Component, { name })),
          ),
        );
      },
    },
    {
      name: 'architectures',
      type: FieldType.STRING_LIST,
      description:
        'Architectures built; the first non-optional one builds arch-all packages unless archAll says otherwise',
      get: (d) => d.architectureOptions.getItems().map((o) => o.architecture.name),
      set: async (em, d, v) => {
        const names = parseStringList('architectures', v, ARCH, 'e.g. amd64 arm64');
        if (!names.length) throw new FieldError('architectures', 'give at least one architecture');
        const keep = d.architectureOptions.getItems().filter((o) => names.includes(o.architecture.name));
        for (const name of names.filter((n) => !keep.some((o) => o.architecture.name === n))) {
          const architecture = (await em.findOne(Architecture, { name })) ?? em.create(Architecture, { name });
          keep.push(em.create(ArchitectureOption, { distribution: d, architecture }));
        }
        d.architectureOptions.set(names.map((n) => keep.find((o) => o.architecture.name === n)!));
        ensureOneArchAll(d);
      },
    },
    {
      name: 'optionalArchitectures',
      type: FieldType.STRING_LIST,
      description: 'Architectures whose failures do not fail a package',
      get: (d) =>
        d.architectureOptions
          .getItems()
          .filter((o) => o.optional)
          .map((o) => o.architecture.name),
      set: (_em, d, v) => {
        const names = parseStringList('optionalArchitectures', v, ARCH);
        const unknown = names.filter((n) => !d.architectureOptions.getItems().some((o) => o.architecture.name === n));
        if (unknown.length)
          throw new FieldError(
            'optionalArchitectures',
            `not architectures of this distribution: ${unknown.join(', ')}`,
          );
        for (const o of d.architectureOptions) o.optional = names.includes(o.architecture.name);
        ensureOneArchAll(d);
      },
    },
    {
      name: 'archAll',
      type: FieldType.STRING,
      description: 'The architecture that builds arch-all packages (never an optional one)',
      get: (d) => d.architectureOptions.getItems().find((o) => o.buildArchitectureAll)?.architecture.name ?? '',
      set: (_em, d, v) => {
        const name = parseString('archAll', v, { pattern: ARCH });
        const o = d.architectureOptions.getItems().find((x) => x.architecture.name === name);
        if (!o) throw new FieldError('archAll', `${name} is not an architecture of this distribution`);
        if (o.optional)
          throw new FieldError('archAll', `${name} is optional; arch-all must build on a mandatory architecture`);
        for (const x of d.architectureOptions) x.buildArchitectureAll = x === o;
      },
    },
    field('buildDepResolver', FieldType.ENUM, 'How build dependencies are resolved', enumParser(RESOLVERS), {
      options: RESOLVERS,
    }),
    field('lintianMode', FieldType.ENUM, QA_MODE_HELP('lintian'), enumParser(QA_MODES), { options: QA_MODES }),
    field('lintianExtraOptions', FieldType.STRING, 'More lintian options', textParser(BUILD_OPTIONS, OPTIONS_HINT)),
    field('autopkgtestMode', FieldType.ENUM, QA_MODE_HELP('autopkgtest'), enumParser(QA_MODES), { options: QA_MODES }),
    field(
      'debBuildOptions',
      FieldType.STRING,
      'DEB_BUILD_OPTIONS for every build',
      textParser(BUILD_OPTIONS, OPTIONS_HINT),
    ),
    field(
      'debBuildProfiles',
      FieldType.STRING,
      'DEB_BUILD_PROFILES for every build',
      textParser(BUILD_OPTIONS, OPTIONS_HINT),
    ),
    field(
      'addDepends',
      FieldType.STRING,
      'Extra build dependencies, comma separated',
      textParser(/^[A-Za-z0-9=_.,+:~<>|()[\] -]*$/, 'dependencies as in debian/control'),
    ),
    field(
      'internalAptPriority',
      FieldType.INT,
      'APT priority of the repository’s own suites in builds (1: only when needed, 500: always)',
      (f, v) => parseInt(f, v, -1000, 1000),
    ),
  ],
  dependants: (em, d) => em.find(Repository, { distributions: d }),
};

/** Keeps mini-buildd's rule: exactly one mandatory architecture builds arch-all packages. */
function ensureOneArchAll(d: Distribution): void {
  const opts = d.architectureOptions.getItems();
  const current = opts.find((o) => o.buildArchitectureAll && !o.optional);
  const chosen = current ?? opts.find((o) => !o.optional);
  if (!chosen) throw new FieldError('optionalArchitectures', 'at least one architecture must be mandatory');
  for (const o of opts) o.buildArchitectureAll = o === chosen;
}
