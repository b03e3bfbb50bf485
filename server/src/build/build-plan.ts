import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Chroot, ChrootBackend } from '../chroot/chroot.entity.js';
import { chrootRef } from '../chroot/chroot-ops.js';
import { Distribution } from '../distribution/distribution.entity.js';
import { DomainError } from '../graphql/errors.js';
import { ConfigStatus } from '../lifecycle/lifecycle.js';
import type { InstanceKeyStore } from '../pgp/instance-key.js';
import { Repository } from '../repository/repository.entity.js';
import type { BuildSpec, ChrootRef, ExtraRepository } from './build-spec.js';

/** Where the daemon's own repositories are reachable from a build (schroot and unshare share the host network). */
export interface PlanContext {
  dataDir: string;
  keys: InstanceKeyStore;
  /** e.g. http://127.0.0.1:8066 */
  loopbackHttpUrl: string;
  /** Build slots, to share the cores between parallel builds. */
  slots: number;
}

/** A build target: one distribution (a repository's `<codename>-<repo>-<suite>` or a bare codename) and arch. */
export interface BuildTarget {
  /** What goes into the .changes: `<codename>-<repo>-<suite>`, or the codename for a bare distribution. */
  distribution: string;
  architecture: string;
  archAll: boolean;
  chrootKey: string;
  spec: Omit<BuildSpec, 'dsc'>;
}

/**
 * Resolves a distribution name and an architecture into everything a build needs, frozen now: the
 * chroot, the repository's own suites (the suite and those it migrates to) and the distribution's extra
 * sources as extra apt sources, build options and QA modes. Throws a DomainError a person can act on.
 */
export async function planBuild(
  em: EntityManager,
  ctx: PlanContext,
  distributionName: string,
  architecture: string,
  opts: { onRemotes?: boolean } = {},
): Promise<BuildTarget> {
  const { distribution, repository, suites } = await resolveDistribution(em, distributionName);
  const options = distribution.architectureOptions.getItems();
  const option = options.find((o) => o.architecture.name === architecture);
  if (!option)
    throw new DomainError(
      'UNKNOWN_ARCHITECTURE',
      `${distributionName} is not built for ${architecture}; its architectures are ${options.map((o) => o.architecture.name).join(', ')}`,
      { field: 'architecture' },
    );
  const archAllHome = options.find((o) => o.buildArchitectureAll) ?? options[0];
  const codename = distribution.baseSource.codename;
  const chrootKey = `${codename}-${architecture}`;
  const chroot = await em.findOne(Chroot, { source: distribution.baseSource, architecture }, { populate: ['source'] });
  const local = chroot?.status === ConfigStatus.ACTIVE;
  // Without a chroot here, an active remote with one builds it (the dispatcher chooses).
  if (!local && !(opts.onRemotes && (await remoteHasChroot(em, `${codename}:${architecture}`))))
    throw new DomainError(
      'CHROOT_MISSING',
      chroot
        ? `the chroot ${chrootKey} is ${chroot.status.toLowerCase()}, not active: \`debyard chroot pca ${chrootKey}\``
        : `there is no chroot ${chrootKey}: \`debyard setup --chroots --apply\` or \`debyard chroot create ${chrootKey}\``,
    );

  const extraRepositories: ExtraRepository[] = [];
  const components = distribution.components.getItems().map((c) => c.name);
  if (repository) {
    const keyFile = await instanceKeyFile(ctx);
    for (const suite of suites)
      extraRepositories.push({
        line: `deb ${ctx.loopbackHttpUrl}/repositories/${repository.identity}/ ${codename}-${repository.identity}-${suite} ${components.join(' ')}`,
        keyFile,
      });
  }
  for (const extra of distribution.extraSources.getItems()) {
    const source = extra.source;
    if (source.status !== ConfigStatus.ACTIVE || !source.archiveUrl) continue;
    const keyFile = await sourceKeyFile(ctx, `${source.origin}_${source.codename}`, source.aptKeys.getItems());
    const sourceComponents = components
      .filter((c) => source.components.length === 0 || source.components.includes(c))
      .map((c) => source.removeFromComponent + c);
    if (sourceComponents.length)
      extraRepositories.push({
        line: `deb ${source.archiveUrl} ${source.codename} ${sourceComponents.join(' ')}`,
        keyFile,
      });
  }

  return {
    distribution: repository ? distributionName : codename,
    architecture,
    archAll: option === archAllHome,
    chrootKey,
    spec: {
      distribution: repository ? distributionName : codename,
      architecture,
      archAll: option === archAllHome,
      chroot: local ? chrootRef(chroot, ctx.dataDir) : NO_CHROOT,
      extraRepositories,
      buildDepResolver: distribution.buildDepResolver,
      debBuildOptions: distribution.debBuildOptions,
      debBuildProfiles: distribution.debBuildProfiles,
      addDepends: distribution.addDepends,
      jobs: Math.max(1, Math.floor(os.availableParallelism() / Math.max(1, ctx.slots))),
      lintianMode: distribution.lintianMode,
      lintianExtraOptions: distribution.lintianExtraOptions,
      autopkgtestMode: distribution.autopkgtestMode,
    },
  };
}

/** A build's chroot while this instance has none: a remote builds it (see remote/remote-builds.ts). */
export const NO_CHROOT: ChrootRef = { backend: ChrootBackend.SCHROOT, name: '' };

async function remoteHasChroot(em: EntityManager, codenameArch: string): Promise<boolean> {
  const [row] = await em
    .getConnection()
    .execute<{ n: string }[]>(`select count(*) as n from remote where status = ? and jsonb_exists(chroots::jsonb, ?)`, [
      ConfigStatus.ACTIVE,
      codenameArch,
    ]);
  return Number(row?.n ?? 0) > 0;
}

/** The architectures a distribution (a codename or `<codename>-<repo>-<suite>`) builds on, in order. */
export async function distributionArchitectures(
  em: EntityManager,
  distributionName: string,
): Promise<{ architecture: string; optional: boolean }[]> {
  const { distribution } = await resolveDistribution(em, distributionName);
  return distribution.architectureOptions
    .getItems()
    .map((o) => ({ architecture: o.architecture.name, optional: o.optional }))
    .sort((a, b) => a.architecture.localeCompare(b.architecture));
}

interface ResolvedDistribution {
  distribution: Distribution;
  repository: Repository | null;
  /** The suite built for, then the suites it migrates to. */
  suites: string[];
}

const POPULATE = [
  'baseSource',
  'components',
  'architectureOptions.architecture',
  'extraSources.source.aptKeys',
] as const;

async function resolveDistribution(em: EntityManager, name: string): Promise<ResolvedDistribution> {
  if (!/^[a-z0-9][a-z0-9.+-]*$/.test(name))
    throw new DomainError('UNKNOWN_DISTRIBUTION', `"${name}" is not a distribution name`, { field: 'distribution' });
  const bare = await em.findOne(Distribution, { baseSource: { codename: name } }, { populate: POPULATE });
  if (bare) return { distribution: bare, repository: null, suites: [] };

  const repositories = await em.find(
    Repository,
    {},
    { populate: ['layout.suiteOptions.suite', 'distributions.baseSource'] },
  );
  for (const repository of repositories)
    for (const d of repository.distributions.getItems()) {
      const prefix = `${d.baseSource.codename}-${repository.identity}-`;
      if (!name.startsWith(prefix)) continue;
      const options = repository.layout.suiteOptions.getItems();
      const option = options.find((o) => o.suite.name === name.slice(prefix.length));
      if (!option) continue;
      if (repository.status !== ConfigStatus.ACTIVE)
        throw new DomainError(
          'UNKNOWN_DISTRIBUTION',
          `the repository ${repository.identity} is ${repository.status.toLowerCase()}, not active: \`debyard config repository pca ${repository.identity}\``,
          { field: 'distribution' },
        );
      const suites = [option.suite.name];
      for (let next = option.migratesTo; next && !suites.includes(next);) {
        suites.push(next);
        next = options.find((o) => o.suite.name === next)?.migratesTo ?? null;
      }
      const distribution = await em.findOneOrFail(Distribution, d.id, { populate: POPULATE });
      return { distribution, repository, suites };
    }
  const known = await em.find(Distribution, {}, { populate: ['baseSource'] });
  throw new DomainError(
    'UNKNOWN_DISTRIBUTION',
    `there is no distribution "${name}": use a codename (${known.map((d) => d.baseSource.codename).join(', ') || 'none set up'}) or <codename>-<repository>-<suite>`,
    { field: 'distribution' },
  );
}

async function instanceKeyFile(ctx: PlanContext): Promise<string> {
  const file = path.join(ctx.dataDir, 'keys', 'archive-key.pub.asc');
  await writeIfChanged(file, await ctx.keys.armoredPublicKey());
  return file;
}

async function sourceKeyFile(ctx: PlanContext, name: string, keys: { armored: string }[]): Promise<string> {
  const file = path.join(ctx.dataDir, 'keys', 'sources', `${name.replace(/[^A-Za-z0-9._-]/g, '_')}.asc`);
  await writeIfChanged(file, keys.map((k) => k.armored.trim() + '\n').join(''));
  return file;
}

async function writeIfChanged(file: string, content: string): Promise<void> {
  const current = await fs.readFile(file, 'utf8').catch(() => null);
  if (current === content) return;
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await fs.writeFile(tmp, content, { mode: 0o644 });
  await fs.rename(tmp, file);
}
