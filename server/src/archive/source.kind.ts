import * as openpgp from 'openpgp';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Distribution } from '../distribution/distribution.entity.js';
import {
  ConfigKind,
  FieldError,
  FieldType,
  parseBoolean,
  parseJsonObject,
  propertyFields,
  textParser,
  parseStringList,
  requireAll,
  type KindHandler,
} from '../lifecycle/config-kind.js';
import { Repository } from '../repository/repository.entity.js';
import { AptKey } from './apt-key.entity.js';
import { Archive } from './archive.entity.js';
import { normaliseArchiveUrl } from './archive.kind.js';
import { checkSource } from './release-check.js';
import { PrioritySource } from './priority-source.entity.js';
import { Source } from './source.entity.js';

const ORIGIN = /^[A-Za-z0-9][A-Za-z0-9 .+~-]*$/;
const CODENAME = /^[a-z0-9][a-z0-9./+~-]*$/;

/** `Debian:bookworm`, `Debian Backports:bookworm-backports`, `Debian:buster/updates`. */
export function parseSourceKey(key: string): { origin: string; codename: string } {
  const m = /^([^:]+):([^:\s]+)$/.exec(key.trim());
  if (!m || !ORIGIN.test(m[1]!) || !CODENAME.test(m[2]!) || m[2]!.includes('..'))
    throw new FieldError('key', `"${key}" is not ORIGIN:CODENAME, e.g. Debian:bookworm`);
  return { origin: m[1]!, codename: m[2]! };
}

/** Repositories whose distributions use `source` as base or extra source. */
export async function repositoriesUsing(em: EntityManager, source: Source): Promise<Repository[]> {
  const prios = await em.find(PrioritySource, { source });
  const dists = await em.find(Distribution, {
    $or: [{ baseSource: source }, ...(prios.length ? [{ extraSources: { $in: prios } }] : [])],
  });
  return dists.length ? em.find(Repository, { distributions: { $in: dists } }) : [];
}

const field = propertyFields<Source>();

export const sourceKind: KindHandler<Source> = {
  kind: ConfigKind.SOURCE,
  entity: Source,
  lifecycle: true,
  keyOf: (s) => s.key,
  describe: (s) =>
    s.codeversion
      ? `${s.key} (code version ${s.effectiveCodeversion}, ${s.architectures.length} architectures)`
      : s.key,
  list: (em) => em.find(Source, {}, { orderBy: { origin: 'asc', codename: 'asc' } }),
  find: (em, key) => em.findOne(Source, parseSourceKey(key)),
  create: async (em, key) => em.create(Source, parseSourceKey(key), { persist: false }),
  load: async (_em, s) => {
    await s.aptKeys.init();
    await s.archives.init();
  },
  fields: [
    {
      name: 'origin',
      type: FieldType.STRING,
      readOnly: true,
      description: 'Release Origin, e.g. Debian',
      get: (s) => s.origin,
    },
    {
      name: 'codename',
      type: FieldType.STRING,
      readOnly: true,
      description: 'Directory under dists/',
      get: (s) => s.codename,
    },
    {
      name: 'archives',
      type: FieldType.REFERENCE_LIST,
      refKind: ConfigKind.ARCHIVE,
      description: 'Archives that carry this source; the fastest is used',
      get: (s) =>
        s.archives
          .getItems()
          .map((a) => a.url)
          .sort(),
      set: async (em, s, v) => {
        const urls = parseStringList('archives', v).map(normaliseArchiveUrl);
        if (!urls.length) throw new FieldError('archives', 'give at least one archive');
        const found = await em.find(Archive, { url: { $in: urls } });
        s.archives.set(requireAll('archives', 'archive', urls, found, (a) => a.url));
      },
    },
    {
      name: 'aptKeys',
      type: FieldType.REFERENCE_LIST,
      refKind: ConfigKind.APT_KEY,
      description: 'Keys that may sign the Release file',
      get: (s) =>
        s.aptKeys
          .getItems()
          .map((k) => k.fingerprint)
          .sort(),
      set: async (em, s, v) => {
        const fprs = parseStringList('aptKeys', v, /^[0-9A-Fa-f]{40}$/, 'a 40-digit fingerprint').map((f) =>
          f.toUpperCase(),
        );
        if (!fprs.length) throw new FieldError('aptKeys', 'give at least one key');
        const found = await em.find(AptKey, { fingerprint: { $in: fprs } });
        s.aptKeys.set(requireAll('aptKeys', 'key', fprs, found, (k) => k.fingerprint));
      },
    },
    {
      name: 'extraIdentifiers',
      type: FieldType.JSON,
      description: 'More Release fields that must match, e.g. {"Label": "Debian-Security"}',
      get: (s) => s.extraIdentifiers,
      set: (_em, s, v) => {
        const o = parseJsonObject('extraIdentifiers', v);
        if ('Origin' in o) throw new FieldError('extraIdentifiers', 'Origin is the source’s own field');
        s.extraIdentifiers = o;
      },
    },
    field(
      'removeFromComponent',
      FieldType.STRING,
      'Prefix the archive puts before component names, e.g. updates/',
      textParser(/^[a-z0-9-]+\/$/, 'a directory name ending in /, e.g. updates/'),
    ),
    field(
      'codeversionOverride',
      FieldType.STRING,
      'Used instead of the guessed code version when set',
      textParser(/^[~A-Za-z0-9.+]+$/, 'letters, digits and ~.+'),
    ),
    field('checkValidUntil', FieldType.BOOLEAN, 'Refuse a Release whose Valid-Until has passed', parseBoolean),
    {
      name: 'codeversion',
      type: FieldType.STRING,
      readOnly: true,
      description: 'Guessed by the last check',
      get: (s) => s.codeversion,
    },
    {
      name: 'architectures',
      type: FieldType.STRING_LIST,
      readOnly: true,
      description: 'From the Release file',
      get: (s) => s.architectures,
    },
    {
      name: 'components',
      type: FieldType.STRING_LIST,
      readOnly: true,
      description: 'From the Release file',
      get: (s) => s.components,
    },
    {
      name: 'archiveUrl',
      type: FieldType.STRING,
      readOnly: true,
      description: 'The fastest archive in the last check',
      get: (s) => s.archiveUrl,
    },
  ],
  dependencies: async (_em, s) => [...(await s.aptKeys.loadItems()), ...(await s.archives.loadItems())],
  dependants: repositoriesUsing,
  prepare: async (s) => {
    if (!(await s.archives.loadItems()).length) throw new Error('it has no archives: set some with `archives`');
    if (!(await s.aptKeys.loadItems()).length) throw new Error('it has no keys: set some with `aptKeys`');
  },
  check: async (s) => {
    const keys = (
      await Promise.all((await s.aptKeys.loadItems()).map((k) => openpgp.readKeys({ armoredKeys: k.armored })))
    ).flat();
    const archives = (await s.archives.loadItems()).filter((a) => a.isActiveOrReactivating());
    if (!archives.length) throw new Error('none of its archives is active');
    const results = await Promise.allSettled(
      archives.map((a) =>
        checkSource({
          archiveUrl: a.url,
          codename: s.codename,
          origin: s.origin,
          extraIdentifiers: s.extraIdentifiers,
          keys,
          checkValidUntil: s.checkValidUntil,
          removeFromComponent: s.removeFromComponent || undefined,
        }),
      ),
    );
    const ok = results
      .filter((r): r is PromiseFulfilledResult<Awaited<ReturnType<typeof checkSource>>> => r.status === 'fulfilled')
      .map((r) => r.value)
      .sort((a, b) => a.fetchMs - b.fetchMs);
    const best = ok[0];
    if (!best) throw (results[0] as PromiseRejectedResult).reason;
    s.codeversion = best.codeversion;
    s.architectures = best.architectures;
    s.components = best.components;
    s.releaseDate = best.date ?? null;
    s.archiveUrl = best.archiveUrl;
  },
};
