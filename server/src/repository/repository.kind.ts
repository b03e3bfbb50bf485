import fs from 'node:fs/promises';
import path from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import * as openpgp from 'openpgp';
import { Distribution } from '../distribution/distribution.entity.js';
import { sortComponents } from '../distribution/distribution.kind.js';
import { DaemonConfig } from '../instance/daemon-config.entity.js';
import { Layout } from '../layout/layout.entity.js';
import {
  ConfigKind,
  FieldError,
  FieldType,
  parseBoolean,
  parseInt,
  parseString,
  parseStringList,
  propertyFields,
  requireAll,
  type KindContext,
  type KindHandler,
} from '../lifecycle/config-kind.js';
import { verifyClearsigned } from '../pgp/verify.js';
import { Snapshot } from '../snapshot/snapshot.entity.js';
import { Reprepro, type RepreproDistribution } from './reprepro.js';
import { Repository } from './repository.entity.js';

export const REPOSITORY_IDENTITY = /^[a-z0-9]+$/;

function parseEmailPattern(field: string, v: unknown): string {
  const s = parseString(field, v, { empty: true });
  try {
    new RegExp(s);
  } catch (err) {
    throw new FieldError(field, `"${s}" is not a regular expression: ${(err as Error).message}`);
  }
  return s;
}

/** One published distribution of a repository: `<codename>-<repo>-<suite>[-rollback<n>]`. */
export interface PublishedDistribution {
  name: string;
  codename: string;
  suite: string;
  rollback: number | null;
  components: string[];
  architectures: string[];
  uploadable: boolean;
}

/** Everything a repository publishes, in a stable order (distribution, suite, then rollbacks). */
export function publishedDistributions(repo: Repository): PublishedDistribution[] {
  const out: PublishedDistribution[] = [];
  const dists = repo.distributions
    .getItems()
    .sort((a, b) => a.baseSource.codename.localeCompare(b.baseSource.codename));
  for (const d of dists) {
    const components = sortComponents(d.components.getItems().map((c) => c.name));
    const architectures = d.architectureOptions.getItems().map((o) => o.architecture.name);
    for (const o of repo.layout.suiteOptions.getItems()) {
      const name = `${d.baseSource.codename}-${repo.identity}-${o.suite.name}`;
      out.push({
        name,
        codename: d.baseSource.codename,
        suite: o.suite.name,
        rollback: null,
        components,
        architectures,
        uploadable: o.uploadable,
      });
      for (let r = 0; r < o.rollbacks; r++)
        out.push({
          name: `${name}-rollback${r}`,
          codename: d.baseSource.codename,
          suite: o.suite.name,
          rollback: r,
          components,
          architectures,
          uploadable: false,
        });
    }
  }
  return out;
}

/** reprepro's view of the repository, as mini-buildd writes it (§3.6). */
export function repreproDistributions(repo: Repository, daemon: DaemonConfig): RepreproDistribution[] {
  const meta = repo.layout.metaDistributions;
  return publishedDistributions(repo).map((p) => {
    const option = repo.layout.suiteOptions.getItems().find((o) => o.suite.name === p.suite)!;
    const rollback = p.rollback !== null;
    return {
      codename: p.name,
      origin: daemon.archiveOrigin,
      components: p.components,
      architectures: p.architectures,
      description: p.name,
      notAutomatic: rollback ? true : option.notAutomatic,
      butAutomaticUpgrades: rollback ? false : option.butAutomaticUpgrades,
      alsoAcceptFor: rollback ? [] : Object.keys(meta).filter((k) => meta[k] === `${p.codename}-${p.suite}`),
      signWith: daemon.keyFingerprint!,
      ...(repo.releaseValidDays > 0 ? { validFor: `${repo.releaseValidDays}d` } : {}),
    };
  });
}

export function repreproFor(ctx: KindContext, repo: Repository): Reprepro {
  return new Reprepro({
    basedir: path.join(ctx.dataDir, 'repositories', repo.identity),
    gnupgHome: ctx.keys.gnupgHome,
    logger: ctx.logger.child({ repository: repo.identity }),
  });
}

export async function loadRepository(em: EntityManager, repo: Repository): Promise<void> {
  await em.populate(repo, [
    'layout.suiteOptions.suite',
    'distributions.baseSource',
    'distributions.extraSources.source',
    'distributions.components',
    'distributions.architectureOptions.architecture',
  ]);
}

/** The rules a repository's distributions must follow before reprepro sees them. */
function validate(repo: Repository): void {
  if (!repo.distributions.length) throw new Error('it has no distributions: set some with `distributions`');
  if (!repo.layout.suiteOptions.length) throw new Error(`layout ${repo.layout.name} has no suites`);
  for (const d of repo.distributions) {
    const opts = d.architectureOptions.getItems();
    if (!opts.some((o) => !o.optional))
      throw new Error(`distribution ${d.baseSource.codename} has no mandatory architecture`);
    if (opts.filter((o) => o.buildArchitectureAll && !o.optional).length !== 1)
      throw new Error(
        `distribution ${d.baseSource.codename} needs exactly one mandatory architecture that builds arch-all packages`,
      );
    if (!d.components.getItems().some((c) => c.name === 'main'))
      throw new Error(`distribution ${d.baseSource.codename} lacks component main`);
  }
}

export const repositoryKind: KindHandler<Repository> = {
  kind: ConfigKind.REPOSITORY,
  entity: Repository,
  lifecycle: true,
  keyOf: (r) => r.identity,
  describe: (r) => `${r.identity} (${r.layout.name})`,
  list: (em) => em.find(Repository, {}, { populate: ['layout'], orderBy: { identity: 'asc' } }),
  find: (em, key) => em.findOne(Repository, { identity: key }, { populate: ['layout'] }),
  create: async (em, key) => {
    const identity = parseString('identity', key, {
      pattern: REPOSITORY_IDENTITY,
      hint: 'lower-case letters and digits, e.g. test',
    });
    // "Default" until a `layout` value says otherwise (as `setup --repository test:<layout>` does next).
    const layout =
      (await em.findOne(Layout, { name: 'Default' })) ??
      (await em.find(Layout, {}, { orderBy: { name: 'asc' }, limit: 1 }))[0];
    if (!layout) throw new FieldError('layout', 'there are no layouts: create a layout first or run `debyard setup`');
    return em.create(Repository, { identity, layout }, { persist: false });
  },
  load: loadRepository,
  fields: [
    {
      name: 'identity',
      type: FieldType.STRING,
      readOnly: true,
      description: 'Part of every distribution name',
      get: (r) => r.identity,
    },
    {
      name: 'layout',
      type: FieldType.REFERENCE,
      refKind: ConfigKind.LAYOUT,
      description: 'Which suites it has and the version rules',
      get: (r) => r.layout.name,
      set: async (em, r, v) => {
        const name = parseString('layout', v);
        const layout = await em.findOne(Layout, { name }, { populate: ['suiteOptions.suite'] });
        if (!layout) throw new FieldError('layout', `there is no layout "${name}"`);
        r.layout = layout;
      },
    },
    {
      name: 'distributions',
      type: FieldType.REFERENCE_LIST,
      refKind: ConfigKind.DISTRIBUTION,
      description: 'The codenames it builds for',
      get: (r) =>
        r.distributions
          .getItems()
          .map((d) => d.baseSource.codename)
          .sort(),
      set: async (em, r, v) => {
        const codenames = parseStringList('distributions', v, /^[a-z0-9][a-z0-9.+-]*$/, 'a codename, e.g. bookworm');
        const found = await em.find(
          Distribution,
          { baseSource: { codename: { $in: codenames } } },
          { populate: ['baseSource', 'components', 'architectureOptions.architecture', 'extraSources.source'] },
        );
        r.distributions.set(
          requireAll('distributions', 'distribution', codenames, found, (d) => d.baseSource.codename),
        );
      },
    },
    propertyFields<Repository>()(
      'allowUnauthenticatedUploads',
      FieldType.BOOLEAN,
      'Accept unsigned uploads (a sandbox like mini-buildd’s "test")',
      parseBoolean,
    ),
    {
      name: 'extraUploaderKeys',
      type: FieldType.TEXT,
      description: 'More armored public keys whose uploads are accepted',
      get: (r) => r.extraUploaderKeys,
      set: (_em, r, v) => {
        const s = typeof v === 'string' ? v.trim() : '';
        if (typeof v !== 'string') throw new FieldError('extraUploaderKeys', 'expected armored keys as text');
        if (s && !s.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----'))
          throw new FieldError('extraUploaderKeys', 'expected ASCII-armored public keys');
        r.extraUploaderKeys = s;
      },
    },
    propertyFields<Repository>()(
      'releaseValidDays',
      FieldType.INT,
      'Days each published Release stays valid (Valid-Until); 0: none. Signed again when half of it has passed',
      (f, v) => parseInt(f, v, 0, 3650),
    ),
    {
      name: 'notify',
      type: FieldType.STRING_LIST,
      description: 'E-mail addresses that hear about every mailed event of this repository',
      live: true,
      get: (r) => r.notify,
      set: (_em, r, v) => void (r.notify = parseStringList('notify', v, /^[^\s@,]+@[^\s@,]+$/, 'an e-mail address')),
    },
    {
      ...propertyFields<Repository>()(
        'notifyChangedBy',
        FieldType.BOOLEAN,
        'Mail the upload’s Changed-By too, when allowEmailsTo matches the address',
        parseBoolean,
      ),
      live: true,
    },
    {
      ...propertyFields<Repository>()(
        'notifyMaintainer',
        FieldType.BOOLEAN,
        'Mail the package’s Maintainer too, when allowEmailsTo matches the address',
        parseBoolean,
      ),
      live: true,
    },
    {
      ...propertyFields<Repository>()(
        'allowEmailsTo',
        FieldType.STRING,
        'A regular expression the whole address of Changed-By or Maintainer must match (e.g. .*@example\\.org); empty: nobody',
        parseEmailPattern,
      ),
      live: true,
    },
    ...(['weekly', 'monthly', 'yearly'] as const).map((period) =>
      propertyFields<Repository>()(
        `${period}Snapshots`,
        FieldType.INT,
        `How many ${period} snapshots of each stable suite to keep (0: none)`,
        (field, v) => parseInt(field, v, 0, 520),
      ),
    ),
  ],
  dependencies: async (em, r) => {
    await loadRepository(em, r);
    const daemon = await em.findOne(DaemonConfig, 1);
    const sources = r.distributions
      .getItems()
      .flatMap((d) => [d.baseSource, ...d.extraSources.getItems().map((p) => p.source)]);
    return [...(daemon ? [daemon] : []), ...new Set(sources)];
  },
  prepare: async (r, ctx) => {
    await loadRepository(ctx.em, r);
    validate(r);
    const daemon = await ctx.em.findOne(DaemonConfig, 1);
    if (!daemon?.keyFingerprint) throw new Error('the daemon has no key yet: prepare the daemon first');
    const reprepro = repreproFor(ctx, r);
    await reprepro.configure(repreproDistributions(r, daemon));
    await reprepro.export();
  },
  check: async (r, ctx) => {
    await loadRepository(ctx.em, r);
    validate(r);
    const daemon = await ctx.em.findOne(DaemonConfig, 1);
    if (!daemon?.keyFingerprint) throw new Error('the daemon has no key');
    const reprepro = repreproFor(ctx, r);
    const { changed } = await reprepro.configure(repreproDistributions(r, daemon));
    if (changed) await reprepro.export();
    await reprepro.check();
    // Every published distribution must carry an InRelease signed by the current instance key.
    const key = await openpgp.readKey({ armoredKey: await ctx.keys.armoredPublicKey() });
    for (const p of publishedDistributions(r)) {
      const file = path.join(reprepro.basedir, 'dists', p.name, 'InRelease');
      const text = await fs.readFile(file, 'utf8').catch(() => {
        throw new Error(`${p.name} is not published (no InRelease): prepare the repository again`);
      });
      await verifyClearsigned(text, [key]).catch((err: Error) => {
        throw new Error(`${p.name}/InRelease does not verify with the instance key: ${err.message}`);
      });
    }
  },
  remove: async (r, ctx) => {
    // The basedir holds the snapshots' published directories too: their rows go with it.
    await repreproFor(ctx, r).remove();
    const snapshots = await ctx.em.nativeDelete(Snapshot, { repository: r.identity });
    if (snapshots)
      ctx.logger.info({ repository: r.identity, snapshots }, 'snapshots of the removed repository deleted');
  },
};
