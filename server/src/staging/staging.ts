/**
 * Repository maintenance (mini-buildd §3.6–3.7): migrate a source version to the suite its suite
 * migrates to (or along the whole chain), remove it (kept as rollback0 unless told otherwise),
 * restore a rollback; each as one reprepro sequence behind the repository's lock that exports the
 * distributions it touched once at the end, and each recorded as MIGRATED, REMOVED or RESTORED.
 * Migrations are refused when the target cannot satisfy the binary packages' dependencies (see
 * depcheck.ts) unless forced. Also the consumer views: the repository browser and debdiff.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { execa } from 'execa';
import type { Distribution } from '../distribution/distribution.entity.js';
import { EventType } from '../events/event.entity.js';
import type { EventService } from '../events/event.service.js';
import { DomainError, type ErrorCode } from '../graphql/errors.js';
import type { Logger } from '../log.js';
import type { InstanceKeyStore } from '../pgp/instance-key.js';
import { Repository } from '../repository/repository.entity.js';
import { publishedDistributions, repreproFor } from '../repository/repository.kind.js';
import type { Reprepro } from '../repository/reprepro.js';
import { runPlanned, SourceListing } from '../repository/rollbacks.js';
import { loadSnapshots, snapshotSources } from '../snapshot/snapshot-sources.js';
import { loadEnvironment, locate, UploadRejection, type Located } from '../upload/checks.js';
import { compareVersions, withoutEpoch } from '../upload/debversion.js';
import { checkSourceName } from '../upload/tracker.js';
import { containedPath } from '../util/paths.js';
import {
  DistcheckError,
  distcheck,
  parsePackages,
  splitBySource,
  type BrokenPackage,
  type PackagesEntry,
} from './depcheck.js';
import { MirrorIndexCache, type MirrorSource } from './mirror-index.js';
import { planMigrate, planRemove, planRestore, StagingAction, type StagingPlan, type StagingScope } from './plan.js';

export interface StagingServiceOptions {
  orm: MikroORM;
  events: EventService;
  keys: InstanceKeyStore;
  dataDir: string;
  logger: Logger;
}

export type StagingRequest =
  | { action: StagingAction.MIGRATE; source: string; distribution: string; version?: string | null; full?: boolean }
  | {
      action: StagingAction.REMOVE;
      source: string;
      distribution: string;
      version?: string | null;
      /** Default true: the version goes into rollback0. */
      keepRollback?: boolean;
    }
  | { action: StagingAction.RESTORE; source: string; distribution: string; rollback: number };

export interface DependencyCheck {
  /** False when it was skipped (forced). */
  checked: boolean;
  forced: boolean;
  /** What the base distribution was (`Debian:bookworm, Debian:bookworm-security`). */
  against: string[];
  broken: (BrokenPackage & { distribution: string })[];
}

export interface StagingOutcome extends StagingPlan {
  dependencies: DependencyCheck | null;
}

/** One source's versions in one suite of one codename: the version there and its rollbacks. */
export interface BrowserEntry {
  source: string;
  codename: string;
  suite: string;
  distribution: string;
  version: string | null;
  rollbacks: { rollback: number; distribution: string; version: string }[];
  /** The snapshots of this distribution that hold the source, oldest first. */
  snapshots: { name: string; version: string }[];
}

export interface RepositoryBrowser {
  repository: string;
  codenames: string[];
  suites: { name: string; migratesTo: string | null; rollbacks: number; uploadable: boolean }[];
  entries: BrowserEntry[];
}

export interface Debdiff {
  repository: string;
  source: string;
  from: string;
  to: string;
  /** debdiff's output; empty when the two are identical. */
  text: string;
  identical: boolean;
  truncated: boolean;
}

interface Resolved {
  em: EntityManager;
  located: Located;
  repo: Repository;
  distribution: Distribution;
  scope: StagingScope;
  reprepro: Reprepro;
}

const POPULATE = [
  'layout.suiteOptions.suite',
  'distributions.baseSource.aptKeys',
  'distributions.extraSources.source.aptKeys',
  'distributions.components',
  'distributions.architectureOptions.architecture',
] as const;
const MAX_DEBDIFF_BYTES = 1024 * 1024;
const PARSED_INDEX_TTL_MS = 120_000;

export class StagingService {
  private readonly mirrors: MirrorIndexCache;
  private readonly parsed = new Map<
    string,
    { mtimeMs: number; size: number; entries: PackagesEntry[]; timer: ReturnType<typeof setTimeout> }
  >();
  /** debdiff unpacks two source packages: one at a time. */
  private debdiffs: Promise<unknown> = Promise.resolve();

  constructor(private readonly opts: StagingServiceOptions) {
    this.mirrors = new MirrorIndexCache(
      path.join(opts.dataDir, 'mirrors'),
      opts.logger.child({ component: 'mirror-index' }),
    );
  }

  /**
   * What `req` would do, refused with the same codes as doing it; changes nothing. With
   * `checkDependencies`, a migration's dependency check runs too and its result is in the answer.
   */
  async plan(req: StagingRequest, opts: { checkDependencies?: boolean } = {}): Promise<StagingOutcome> {
    const r = await this.resolve(req);
    const plan = planFor(r.scope, SourceListing.of(req.source, await r.reprepro.ls(req.source)), r.located, req);
    const dependencies =
      opts.checkDependencies && plan.action === StagingAction.MIGRATE ? await this.checkDependencies(r, plan) : null;
    return { ...plan, dependencies };
  }

  /**
   * Does `req`: a migration checks dependencies first (DEPENDENCIES_UNSATISFIED unless `force`); then
   * one reprepro sequence plans again on a fresh listing (so a concurrent change is refused, not
   * undone), runs the operations and exports once; then the events.
   */
  async apply(req: StagingRequest, by: string, opts: { force?: boolean } = {}): Promise<StagingOutcome> {
    const r = await this.resolve(req);
    let dependencies: DependencyCheck | null = null;
    let checked: StagingPlan | null = null;
    if (req.action === StagingAction.MIGRATE) {
      checked = planFor(r.scope, SourceListing.of(req.source, await r.reprepro.ls(req.source)), r.located, req);
      if (opts.force) dependencies = { checked: false, forced: true, against: [], broken: [] };
      else {
        dependencies = await this.checkDependencies(r, checked);
        if (dependencies.broken.length) throw unsatisfied(checked, dependencies);
      }
    }
    const plan = await runPlanned(r.reprepro, req.source, (listing) => {
      const fresh = planFor(r.scope, listing, r.located, req);
      // The dependency check ran outside the lock: it holds only for the version and suites it saw.
      if (
        checked &&
        (fresh.version !== checked.version || JSON.stringify(fresh.steps) !== JSON.stringify(checked.steps))
      )
        throw new DomainError(
          'SOURCE_NOT_FOUND',
          `${req.source} changed in ${req.distribution} while its dependencies were checked: migrate it again`,
        );
      return fresh;
    });
    await this.record(r.em, plan, by, dependencies);
    this.opts.logger.info(
      { action: plan.action, source: plan.source, version: plan.version, changes: plan.changes, by },
      'repository changed',
    );
    return { ...plan, dependencies };
  }

  /** Every source package in a repository: per codename and suite, the version there and its rollbacks. */
  async browse(identity: string): Promise<RepositoryBrowser> {
    const em = this.opts.orm.em.fork();
    const repo = await em.findOne(Repository, { identity }, { populate: POPULATE });
    if (!repo) throw new DomainError('NOT_FOUND', `there is no repository "${identity}"`);
    const basedir = path.join(this.opts.dataDir, 'repositories', repo.identity);
    const entries = new Map<string, BrowserEntry>();
    const entry = (source: string, p: { codename: string; suite: string }): BrowserEntry => {
      const key = `${source} ${p.codename} ${p.suite}`;
      const found = entries.get(key) ?? {
        source,
        codename: p.codename,
        suite: p.suite,
        distribution: `${p.codename}-${repo.identity}-${p.suite}`,
        version: null,
        rollbacks: [],
        snapshots: [],
      };
      entries.set(key, found);
      return found;
    };
    for (const p of publishedDistributions(repo)) {
      for (const component of p.components) {
        const file = containedPath(basedir, path.join('dists', p.name, component, 'source', 'Sources'));
        const text = await fs.readFile(file, 'utf8').catch(() => '');
        for (const stanza of text.split(/\n\s*\n/)) {
          const source = /^Package:\s*(\S+)/m.exec(stanza)?.[1];
          const version = /^Version:\s*(\S+)/m.exec(stanza)?.[1];
          if (!source || !version) continue;
          const e = entry(source, p);
          if (p.rollback === null) e.version = version;
          else e.rollbacks.push({ rollback: p.rollback, distribution: p.name, version });
        }
      }
    }
    const live = new Map(
      publishedDistributions(repo)
        .filter((p) => p.rollback === null)
        .map((p) => [p.name, p]),
    );
    for (const s of await snapshotSources(this.opts.dataDir, await loadSnapshots(em, repo.identity))) {
      const p = live.get(s.distribution);
      if (p) entry(s.source, p).snapshots.push({ name: s.snapshot, version: s.version });
    }
    // Along the migrations, as people read them: unstable, testing, stable; experimental suites last.
    const options = repo.layout.suiteOptions.getItems();
    const depth = (name: string): number => {
      const to = options.find((o) => o.suite.name === name)?.migratesTo;
      return to && to !== name ? 1 + depth(to) : 0;
    };
    const suites = [...options].sort(
      (a, b) =>
        Number(a.experimental) - Number(b.experimental) ||
        depth(b.suite.name) - depth(a.suite.name) ||
        a.suite.name.localeCompare(b.suite.name),
    );
    const suiteOrder = suites.map((o) => o.suite.name);
    return {
      repository: repo.identity,
      codenames: [...new Set(publishedDistributions(repo).map((p) => p.codename))],
      suites: suites.map((o) => ({
        name: o.suite.name,
        migratesTo: o.migratesTo,
        rollbacks: o.rollbacks,
        uploadable: o.uploadable,
      })),
      entries: [...entries.values()]
        .map((e) => ({ ...e, rollbacks: e.rollbacks.sort((a, b) => a.rollback - b.rollback) }))
        .sort(
          (a, b) =>
            a.codename.localeCompare(b.codename) ||
            a.source.localeCompare(b.source) ||
            suiteOrder.indexOf(a.suite) - suiteOrder.indexOf(b.suite),
        ),
    };
  }

  /**
   * debdiff between two versions of a source in a repository (the first that has both when none is
   * named), on their .dsc files in the pool.
   */
  async debdiff(req: { source: string; from: string; to: string; repository?: string | null }): Promise<Debdiff> {
    const source = checkSourceName(req.source);
    const em = this.opts.orm.em.fork();
    const env = await loadEnvironment(em, this.context());
    const candidates = env.repositories.filter((r) => !req.repository || r.identity === req.repository);
    if (!candidates.length) throw new DomainError('NOT_FOUND', `there is no repository "${req.repository}"`);
    const found: string[] = [];
    for (const repo of candidates) {
      const rows = await env.installed(repo.identity, source).catch(() => []);
      const has = (v: string) => rows.some((row) => compareVersions(row.version, v) === 0);
      found.push(...rows.map((row) => `${row.version} in ${row.distribution}`));
      if (!has(req.from) || !has(req.to)) continue;
      const dsc = async (v: string) => {
        const name = `${source}_${withoutEpoch(v)}.dsc`;
        const file = await env.poolFile(repo.identity, source, name);
        if (!file)
          throw new DomainError('SOURCE_NOT_FOUND', `${name} is not in the pool of repository ${repo.identity}`);
        return file;
      };
      const [a, b] = [await dsc(req.from), await dsc(req.to)];
      const run = this.debdiffs.then(() => this.runDebdiff(a, b));
      this.debdiffs = run.catch(() => undefined);
      return { repository: repo.identity, source, from: req.from, to: req.to, ...(await run) };
    }
    throw new DomainError(
      'SOURCE_NOT_FOUND',
      `no repository${req.repository ? ` named ${req.repository}` : ''} has both ${source} ${req.from} and ${req.to}` +
        (found.length ? `: there are ${[...new Set(found)].join(', ')}` : `: ${source} is in none`),
    );
  }

  private async runDebdiff(a: string, b: string): Promise<Omit<Debdiff, 'repository' | 'source' | 'from' | 'to'>> {
    const tmp = path.join(this.opts.dataDir, 'tmp', `debdiff-${randomBytes(6).toString('hex')}`);
    await fs.mkdir(tmp, { recursive: true });
    try {
      const r = await execa('debdiff', ['--noconf', a, b], {
        reject: false,
        stdin: 'ignore',
        cwd: tmp,
        env: { TMPDIR: tmp, LC_ALL: 'C.UTF-8', HOME: tmp },
        timeout: 120_000,
        maxBuffer: 32 * 1024 * 1024,
      });
      // 0: no differences, 1: differences; anything else is debdiff failing.
      if (r.exitCode !== 0 && r.exitCode !== 1)
        throw new DomainError(
          'DEBDIFF_FAILED',
          `debdiff failed (exit ${r.exitCode ?? r.signal}): ${String(r.stderr).trim().split('\n').slice(-3).join(' ')}`,
        );
      const out = String(r.stdout);
      const truncated = Buffer.byteLength(out) > MAX_DEBDIFF_BYTES;
      return {
        text: truncated ? Buffer.from(out).subarray(0, MAX_DEBDIFF_BYTES).toString('utf8') : out,
        identical: r.exitCode === 0,
        truncated,
      };
    } finally {
      await fs.rm(tmp, { recursive: true, force: true });
    }
  }

  private async resolve(req: StagingRequest): Promise<Resolved> {
    checkSourceName(req.source);
    const em = this.opts.orm.em.fork();
    const env = await loadEnvironment(em, this.context());
    const located = locate(env.repositories, req.distribution);
    if (located instanceof UploadRejection)
      throw new DomainError(located.code as ErrorCode, located.message, { distribution: req.distribution });
    if (located.repo.inactive !== null)
      throw new DomainError(
        'DISTRIBUTION_INACTIVE',
        `${located.name}: repository ${located.repo.identity} ${located.repo.inactive}`,
      );
    const repo = await em.findOneOrFail(Repository, { identity: located.repo.identity }, { populate: POPULATE });
    const distribution = repo.distributions.getItems().find((d) => d.baseSource.codename === located.codename)!;
    const scope: StagingScope = {
      repository: repo.identity,
      codename: located.codename,
      suites: repo.layout.suiteOptions
        .getItems()
        .map((o) => ({ name: o.suite.name, migratesTo: o.migratesTo, rollbacks: o.rollbacks })),
    };
    return { em, located, repo, distribution, scope, reprepro: repreproFor({ em, ...this.context() }, repo) };
  }

  /**
   * dose-distcheck per architecture and migration step: the source's binary packages (as the
   * from-distribution publishes them) against the target, the suites it migrates to and the base
   * distribution with its extra sources (their mirror's Packages, cached).
   */
  private async checkDependencies(r: Resolved, plan: StagingPlan): Promise<DependencyCheck> {
    const basedir = r.reprepro.basedir;
    const components = r.distribution.components.getItems().map((c) => c.name);
    const sources = [r.distribution.baseSource, ...r.distribution.extraSources.getItems().map((p) => p.source)];
    const mirrorSources: MirrorSource[] = sources
      .filter((s) => s.archiveUrl)
      .map((s) => ({
        origin: s.origin,
        codename: s.codename,
        archiveUrl: s.archiveUrl,
        armoredKeys: s.aptKeys.getItems().map((k) => k.armored),
        removeFromComponent: s.removeFromComponent,
      }));
    const failed = (why: string): never => {
      throw new DomainError(
        'DEPENDENCY_CHECK_FAILED',
        `the dependency check of ${plan.source} ${plan.version} could not run: ${why}; migrate with force to skip it`,
      );
    };
    if (!r.distribution.baseSource.archiveUrl)
      failed(`source ${r.distribution.baseSource.key} has no checked archive (check the source)`);
    const read = async (distribution: string, arch: string) => {
      const texts = await Promise.all(
        components.map((c) =>
          fs
            .readFile(containedPath(basedir, path.join('dists', distribution, c, `binary-${arch}`, 'Packages')), 'utf8')
            .catch(() => ''),
        ),
      );
      return parsePackages(texts.join('\n\n'));
    };
    const chain = (to: string): string[] => {
      const out: string[] = [];
      for (let suite: string | null = to.slice(to.lastIndexOf('-') + 1); suite;) {
        out.push(`${r.scope.codename}-${r.scope.repository}-${suite}`);
        suite = r.scope.suites.find((s) => s.name === suite)?.migratesTo ?? null;
        if (out.length > r.scope.suites.length) break;
      }
      return out;
    };
    const broken: DependencyCheck['broken'] = [];
    const work = path.join(this.opts.dataDir, 'tmp', `distcheck-${randomBytes(6).toString('hex')}`);
    try {
      for (const option of r.distribution.architectureOptions.getItems()) {
        const arch = option.architecture.name;
        const [foreground] = splitBySource(await read(plan.distribution, arch), plan.source, plan.version);
        if (!foreground.length) continue;
        let base: PackagesEntry[] = [];
        for (const s of mirrorSources) {
          const files = await this.mirrors
            .packages(s, components, arch)
            .catch((err: Error) =>
              failed(`the Packages files of ${s.origin}:${s.codename} for ${arch}: ${err.message}`),
            );
          for (const f of files) base = base.concat(await this.parsedMirrorIndex(f));
        }
        for (const step of plan.steps) {
          const target: PackagesEntry[] = [];
          for (const d of chain(step.to!)) target.push(...splitBySource(await read(d, arch), plan.source)[1]);
          const found = await distcheck({
            architecture: arch,
            foreground,
            background: [...target, ...base],
            workDir: work,
          }).catch((err: unknown) => failed(err instanceof DistcheckError ? err.message : String(err)));
          broken.push(...found.map((b) => ({ ...b, distribution: step.to! })));
        }
      }
    } finally {
      await fs.rm(work, { recursive: true, force: true });
    }
    return { checked: true, forced: false, against: mirrorSources.map((s) => `${s.origin}:${s.codename}`), broken };
  }

  /**
   * A mirror's Packages file parsed, kept for a couple of minutes: migrations come in runs (a plan,
   * then the migration, then the next suite), and parsing the base distribution takes a second or two.
   */
  private async parsedMirrorIndex(file: string): Promise<PackagesEntry[]> {
    const stat = await fs.stat(file);
    const cached = this.parsed.get(file);
    if (cached && cached.mtimeMs === stat.mtimeMs && cached.size === stat.size) return cached.entries;
    const entries = parsePackages(await fs.readFile(file, 'utf8'));
    if (cached) clearTimeout(cached.timer);
    const timer = setTimeout(() => this.parsed.delete(file), PARSED_INDEX_TTL_MS);
    timer.unref();
    this.parsed.set(file, { mtimeMs: stat.mtimeMs, size: stat.size, entries, timer });
    return entries;
  }

  private async record(em: EntityManager, plan: StagingPlan, by: string, deps: DependencyCheck | null): Promise<void> {
    const common = {
      source: plan.source,
      version: plan.version,
      repository: plan.repository,
      by,
      changes: plan.changes,
    };
    await em.transactional(async (tx) => {
      if (plan.action === StagingAction.MIGRATE)
        for (const step of plan.steps)
          await this.opts.events.record(
            tx,
            EventType.MIGRATED,
            `${plan.source} ${plan.version} migrated from ${step.from} to ${step.to} by ${by}${deps?.forced ? ' (dependency check skipped: forced)' : ''}`,
            { ...common, from: step.from, to: step.to, distribution: step.to, forced: deps?.forced ?? false },
          );
      else if (plan.action === StagingAction.REMOVE) {
        const kept = plan.keptIn ?? null;
        await this.opts.events.record(
          tx,
          EventType.REMOVED,
          `${plan.source} ${plan.version} removed from ${plan.distribution} by ${by}${kept ? ` (kept in ${kept})` : ''}`,
          { ...common, from: plan.distribution, to: null, distribution: plan.distribution, keptIn: kept },
        );
      } else
        await this.opts.events.record(
          tx,
          EventType.RESTORED,
          `${plan.source} ${plan.version} restored from ${plan.steps[0]!.from} into ${plan.distribution} by ${by}`,
          { ...common, from: plan.steps[0]!.from, to: plan.distribution, distribution: plan.distribution },
        );
    });
  }

  private context() {
    return { dataDir: this.opts.dataDir, keys: this.opts.keys, logger: this.opts.logger };
  }
}

function planFor(scope: StagingScope, listing: SourceListing, located: Located, req: StagingRequest): StagingPlan {
  const at = { suite: located.suite, rollback: located.rollback, name: located.name };
  switch (req.action) {
    case StagingAction.MIGRATE:
      return planMigrate(scope, listing, { source: req.source, from: at, version: req.version, full: req.full });
    case StagingAction.REMOVE:
      return planRemove(scope, listing, {
        source: req.source,
        from: at,
        version: req.version,
        keepRollback: req.keepRollback,
      });
    case StagingAction.RESTORE:
      return planRestore(scope, listing, { source: req.source, into: at, rollback: req.rollback });
  }
}

function unsatisfied(plan: StagingPlan, deps: DependencyCheck): DomainError {
  const names = [...new Set(deps.broken.flatMap((b) => b.missing))];
  const targets = [...new Set(deps.broken.map((b) => b.distribution))];
  return new DomainError(
    'DEPENDENCIES_UNSATISFIED',
    `${plan.source} ${plan.version} cannot migrate to ${targets.join(' and ')}: ` +
      deps.broken.map((b) => `${b.package} ${b.version} (${b.architecture}) needs ${b.reasons.join(', ')}`).join('; ') +
      `, which ${targets.join(' and ')} with ${deps.against.join(', ')} cannot satisfy` +
      (names.length ? `. Migrate ${names.join(', ')} first, or force the migration` : '. Force the migration'),
    { unsatisfied: deps.broken, missing: names },
  );
}
