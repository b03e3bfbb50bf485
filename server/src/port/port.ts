/**
 * No-changes ports (mini-buildd §6.5): a source version from one distribution into others, its
 * version rewritten by the suites' rules, or rebuilt in its own distribution. The port is made from
 * the repository's pool, gets one changelog entry by the instance, is signed by the instance key and
 * goes through the intake like any upload: checks, builds, install.
 *
 * Two ways in: a person (GraphQL `port`, `debyard port`, the console), refused at once with the
 * checks' codes when a target cannot take it; and the `auto-ports` option of an upload, one job per
 * distribution queued with its INSTALLED event. An auto-port is idempotent (a port it already made is
 * found by its origin) and its failure is an event, PORT_FAILED: the installed upload is untouched.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { JobHelpers } from 'graphile-worker';
import * as openpgp from 'openpgp';
import { fetchSource } from '../build/dsc.js';
import { EventType } from '../events/event.entity.js';
import type { EventService } from '../events/event.service.js';
import { DomainError, type ErrorCode } from '../graphql/errors.js';
import { DaemonConfig } from '../instance/daemon-config.entity.js';
import { TASKS } from '../jobs/queue.js';
import { expandVersionRule } from '../layout/layout.kind.js';
import type { Logger } from '../log.js';
import type { InstanceKeyStore } from '../pgp/instance-key.js';
import {
  checkDistribution,
  checkVersion,
  loadEnvironment,
  locate,
  parseUploadOptions,
  UploadRejection,
  type Located,
  type UploadEnvironment,
} from '../upload/checks.js';
import { compareVersions, parseVersion, withoutEpoch } from '../upload/debversion.js';
import type { Intake } from '../upload/intake.js';
import { checkSourceName } from '../upload/tracker.js';
import { type PortOrigin, Upload, UploadState, UploadVia } from '../upload/upload.entity.js';
import { Repository } from '../repository/repository.entity.js';
import { checkFileName } from '../util/paths.js';
import { checkDscUrl, UPLOADER_KEYRINGS, verifyExternalDsc } from './external.js';
import { internalPortVersion, internalRebuildVersion, isRebuildStamp, rebuildStamp } from './port-version.js';
import { handOverSignedSource } from './signed-upload.js';
import {
  addChangelogEntry,
  changelogEntries,
  extractSource,
  SourceToolError,
  type ToolEnvironment,
} from './source-tools.js';

/** mini-buildd's default for ports: a no-changes port is not the place to fix lintian's complaints. */
export const DEFAULT_PORT_OPTIONS = ['lintian-mode=ignore'];
const MAX_TARGETS = 20;
/** How old a rebuild stamp from a plan may be when the port is made. */
const STAMP_MAX_AGE_MS = 24 * 3600 * 1000;

export interface PortRequest {
  source: string;
  /** `<codename>-<repo>-<suite>[-rollback<n>]` or a meta-distribution. */
  from: string;
  to: string[];
  /** The version in `from`; default: the one there. */
  version?: string | null;
  /** Upload options (`key=value`) for the new changelog entry; default {@link DEFAULT_PORT_OPTIONS}. */
  options?: string[] | null;
  /** For rebuilds: the stamp a plan showed, so the version made is the one confirmed. */
  rebuildStamp?: string | null;
  /** Who asks: a user name. */
  by: string;
}

export interface PlannedTarget {
  distribution: string;
  repository: string;
  version: string;
  /** A rebuild in the from-distribution (`+rebuilt<stamp>`) rather than a port. */
  rebuild: boolean;
}

/** What a port will upload; refusals are thrown before anything is made. */
export interface PortPlan {
  source: string;
  /** The from-distribution, meta-distributions resolved. */
  from: string;
  fromVersion: string;
  fromRepository: string;
  options: string[];
  rebuildStamp: string;
  targets: PlannedTarget[];
  /** The .dsc in the pool (for an external port: as downloaded). */
  dsc: string;
  /** For an external port: the URL the .dsc came from (then `from` is that URL too). */
  externalUrl?: string;
}

export interface ExternalPortRequest {
  /** http(s) URL of a .dsc. */
  dscUrl: string;
  to: string[];
  /** Port it even when its signature does not verify against the base sources' keyrings. */
  allowUnauthenticated?: boolean;
  options?: string[] | null;
  by: string;
}

export interface PortServiceOptions {
  orm: MikroORM;
  events: EventService;
  keys: InstanceKeyStore;
  intake: Intake;
  dataDir: string;
  logger: Logger;
}

export class PortService {
  constructor(private readonly opts: PortServiceOptions) {}

  /** graphile-worker tasks of ports. */
  tasks() {
    return {
      [TASKS.AUTO_PORT]: (payload: unknown, helpers: JobHelpers) => this.autoPort(payload, helpers),
    };
  }

  /**
   * What {@link port} would upload: the source version in the from-distribution and the new version
   * per target, each target checked as an upload to it would be. Throws a DomainError with the checks'
   * code (DISTRIBUTION_UNKNOWN, SUITE_NOT_UPLOADABLE, VERSION_EXISTS, …) or SOURCE_NOT_FOUND.
   */
  async plan(req: PortRequest, opts: { searchRollbacks?: boolean } = {}): Promise<PortPlan> {
    const em = this.opts.orm.em.fork();
    const source = checkSourceName(req.source);
    const options = checkOptions(req.options ?? DEFAULT_PORT_OPTIONS);
    checkTargetList(req.to);
    const stamp = checkStamp(req.rebuildStamp);

    const env = await loadEnvironment(em, this.context());
    const from = located(env, req.from);
    const installed = await env.installed(from.repo.identity, source);
    const here = installed.filter(
      (r) =>
        r.distribution === from.name || (opts.searchRollbacks && r.distribution.startsWith(`${from.name}-rollback`)),
    );
    const found = req.version ? here.find((r) => compareVersions(r.version, req.version!) === 0) : here[0];
    if (!found) {
      const elsewhere = installed.map((r) => `${r.version} in ${r.distribution}`).join(', ');
      throw new DomainError(
        'SOURCE_NOT_FOUND',
        `${source}${req.version ? ` ${req.version}` : ''} is not in ${from.name}: ` +
          (elsewhere
            ? `repository ${from.repo.identity} has ${elsewhere}`
            : `repository ${from.repo.identity} has no version of it`),
        { distribution: from.name },
      );
    }
    const dscName = `${source}_${withoutEpoch(found.version)}.dsc`;
    const dsc = await env.poolFile(from.repo.identity, source, dscName);
    if (!dsc)
      throw new DomainError(
        'SOURCE_NOT_FOUND',
        `${dscName} is not in the pool of repository ${from.repo.identity}, though reprepro lists ${source} ${found.version} in ${found.distribution}: check the repository (reprepro check)`,
      );

    const targets: PlannedTarget[] = [];
    for (const name of req.to) {
      const to = located(env, name);
      try {
        checkDistribution(to);
      } catch (err) {
        throw asDomainError(err);
      }
      const rebuild = sameDistribution(from, to);
      const version = rebuild
        ? internalRebuildVersion(found.version, stamp)
        : internalPortVersion(found.version, {
            fromRegex: versionRule(from, 'mandatory'),
            toDefault: versionRule(to, 'default'),
            toRegex: versionRule(to, 'mandatory'),
          });
      targets.push(await checkTarget(em, env, targets, source, to, version, rebuild));
    }
    return {
      source,
      from: from.name,
      fromVersion: found.version,
      fromRepository: from.repo.identity,
      options,
      rebuildStamp: stamp,
      targets,
      dsc,
    };
  }

  /**
   * Plans the port (see {@link plan}), then makes one signed source upload per target and hands it to
   * the intake; returns the new uploads (RECEIVED), in the order of `to`. A failure after the plan
   * (a tool, the hand-over) is recorded as PORT_FAILED and thrown as PORT_FAILED, naming the uploads
   * already made for earlier targets.
   */
  async port(req: PortRequest): Promise<Upload[]> {
    const plan = await this.plan(req);
    const ids = await this.make(plan, req.by, null);
    return this.opts.orm.em.fork().find(Upload, { id: { $in: ids } }, { orderBy: { id: 'asc' } });
  }

  /**
   * External no-changes port (mini-buildd's `port_ext`): downloads the .dsc at `dscUrl` and its files
   * (checksums verified), verifies its signature against the target distributions' base sources (see
   * external.ts) unless `allowUnauthenticated`, and ports it to each target as {@link port} does, with
   * version `<dsc Version><target's default version>`. Refused before anything is uploaded: a bad URL
   * (BAD_USER_INPUT), DSC_NOT_FOUND, DSC_INVALID, SOURCE_FILE_MISSING, CHECKSUM_MISMATCH, DSC_SIGNATURE,
   * and the upload checks' codes for the targets.
   */
  async portExternal(req: ExternalPortRequest): Promise<Upload[]> {
    const url = checkDscUrl(req.dscUrl);
    const options = checkOptions(req.options ?? DEFAULT_PORT_OPTIONS);
    checkTargetList(req.to);
    const em = this.opts.orm.em.fork();
    const env = await loadEnvironment(em, this.context());
    // The targets first: nothing is downloaded for a port that cannot go anywhere.
    const targetsLocated = req.to.map((name) => uploadTarget(env, name));
    const staging = await this.opts.intake.portDir();
    try {
      const fetched = await fetchSource(url.href, staging);
      const source = checkSourceName(fetched.source);
      if (!req.allowUnauthenticated) {
        const trust = await this.baseSourceTrust(em, targetsLocated);
        await verifyExternalDsc(await fs.readFile(fetched.dsc, 'utf8'), {
          name: path.basename(fetched.dsc),
          ...trust,
        });
      }
      const targets: PlannedTarget[] = [];
      for (const to of targetsLocated) {
        const version = `${fetched.version}${versionRule(to, 'default')}`;
        targets.push(await checkTarget(em, env, targets, source, to, version, false));
      }
      const plan: PortPlan = {
        source,
        from: url.href,
        fromVersion: fetched.version,
        fromRepository: '',
        options,
        rebuildStamp: '',
        targets,
        dsc: fetched.dsc,
        externalUrl: url.href,
      };
      const ids = await this.make(plan, req.by, null);
      return await this.opts.orm.em.fork().find(Upload, { id: { $in: ids } }, { orderBy: { id: 'asc' } });
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
  }

  /** The keys an external .dsc may be signed with: the base sources' apt keys, their origins' developer keyrings. */
  private async baseSourceTrust(em: EntityManager, targets: Located[]) {
    const repos = await em.find(
      Repository,
      { identity: { $in: [...new Set(targets.map((t) => t.repo.identity))] } },
      { populate: ['distributions.baseSource.aptKeys'] },
    );
    const sources = targets.map(
      (t) =>
        repos
          .find((r) => r.identity === t.repo.identity)!
          .distributions.getItems()
          .find((d) => d.baseSource.codename === t.codename)!.baseSource,
    );
    const armored = [...new Set(sources.flatMap((s) => s.aptKeys.getItems().map((k) => k.armored)))];
    const aptKeys = (await Promise.all(armored.map((a) => openpgp.readKeys({ armoredKeys: a })))).flat();
    const keyringFiles = [...new Set(sources.flatMap((s) => UPLOADER_KEYRINGS[s.origin] ?? []))];
    return { aptKeys: aptKeys.map((k) => (k.isPrivate() ? k.toPublic() : k)), keyringFiles };
  }

  /** Every distribution that takes uploads now (active, an uploadable suite), sorted. */
  async targets(): Promise<string[]> {
    // Before setup there is no instance key, and so no active distribution to port to.
    if (!(await this.opts.keys.load())) return [];
    const env = await loadEnvironment(this.opts.orm.em.fork(), this.context());
    return env.repositories
      .filter((r) => r.inactive === null)
      .flatMap((r) =>
        r.distributions
          .filter((d) => d.inactive === null)
          .flatMap((d) => r.suites.filter((s) => s.uploadable).map((s) => `${d.codename}-${r.identity}-${s.name}`)),
      )
      .sort();
  }

  /** The auto-port job: ports an INSTALLED upload to one distribution of its `auto-ports` option. */
  async autoPort(payload: unknown, helpers: Pick<JobHelpers, 'job'>): Promise<void> {
    const { upload: id, distribution } = (payload ?? {}) as { upload?: unknown; distribution?: unknown };
    if (!Number.isInteger(id) || typeof distribution !== 'string')
      throw new Error(`bad auto-port payload ${JSON.stringify(payload)}`);
    const em = this.opts.orm.em.fork();
    const upload = await em.findOne(Upload, id as number);
    if (!upload || upload.state !== UploadState.INSTALLED || !upload.source) return;
    const done = await findAutoPort(em, upload.id, distribution);
    if (done) {
      this.opts.logger.info({ upload: upload.id, distribution, port: done.id }, 'auto-port was made before');
      return;
    }
    const by = `auto-ports of upload ${upload.id}`;
    let plan: PortPlan;
    try {
      plan = await this.plan(
        { source: upload.source, from: upload.targetDistribution!, to: [distribution], version: upload.version, by },
        { searchRollbacks: true },
      );
    } catch (err) {
      const lastAttempt = helpers.job.attempts >= helpers.job.max_attempts;
      if (!(err instanceof DomainError) && !lastAttempt) throw err; // the database: try again
      const reason = err instanceof DomainError ? err.message : `${(err as Error).message} (gave up)`;
      await this.failed(upload.source, upload.version!, upload.targetDistribution!, distribution, by, reason, {
        code: err instanceof DomainError ? String(err.extensions.code) : 'PORT_FAILED',
        upload: upload.id,
      });
      return;
    }
    await this.make(plan, by, upload.id).catch((err: unknown) => {
      // make() recorded PORT_FAILED; anything else is for the job's retries.
      if (!(err instanceof DomainError)) throw err;
    });
  }

  /** One source upload per target of the plan; PORT_FAILED is recorded and thrown on the first failure. */
  private async make(plan: PortPlan, by: string, autoPortOf: number | null): Promise<number[]> {
    const daemon = await this.opts.orm.em.fork().findOneOrFail(DaemonConfig, 1);
    const ids: number[] = [];
    for (const target of plan.targets) {
      const origin: PortOrigin = { from: plan.from, fromVersion: plan.fromVersion, by, autoPortOf };
      try {
        ids.push(await this.makeOne(plan, target, origin, daemon));
      } catch (err) {
        const reason = err instanceof SourceToolError || err instanceof DomainError ? err.message : String(err);
        const made = ids.length ? ` (made before: upload ${ids.join(', ')})` : '';
        await this.failed(plan.source, plan.fromVersion, plan.from, target.distribution, by, reason + made, {
          code: 'PORT_FAILED',
          ...(autoPortOf !== null ? { upload: autoPortOf } : {}),
          uploads: ids,
        });
        throw new DomainError(
          'PORT_FAILED',
          `porting ${plan.source} ${plan.fromVersion} to ${target.distribution} failed: ${reason}${made}`,
          { uploads: ids },
        );
      }
    }
    return ids;
  }

  /**
   * In a private directory under incoming/port: the .dsc and its files from the pool (checksums
   * verified), dpkg-source -x, a changelog entry, then built, signed and handed to the intake
   * (signed-upload.ts); the directory goes.
   */
  private async makeOne(plan: PortPlan, target: PlannedTarget, origin: PortOrigin, daemon: DaemonConfig) {
    const dir = await this.opts.intake.portDir();
    try {
      const original = await fetchSource(plan.dsc, dir);
      const env: ToolEnvironment = {
        email: daemon.emailAddress,
        fullName: `debyard archive ${daemon.identity}`,
        home: dir,
      };
      const originalSha256 = createHash('sha256')
        .update(await fs.readFile(original.dsc))
        .digest('hex');
      const upstream = withoutEpoch(plan.fromVersion).replace(/-[^-]*$/, '');
      const tree = checkFileName(`${plan.source}-${upstream}`);
      await extractSource(dir, path.basename(original.dsc), tree, env);
      const treeDir = path.join(dir, tree);

      // The author is the newest entry not written by this instance (a port of a port keeps the first).
      const entries = await changelogEntries(treeDir, env);
      const ours = `<${daemon.emailAddress}>`;
      const authored = entries.find((e) => !e.maintainer.endsWith(ours)) ?? entries.at(-1);
      if (!authored) throw new SourceToolError('dpkg-parsechangelog', 'debian/changelog has no entries');

      const checksum = `Original .dsc SHA-256: ${originalSha256}.`;
      const options = plan.options.map((o) => `MINI_BUILDD_OPTION: ${o}`);
      await addChangelogEntry(
        treeDir,
        {
          version: target.version,
          distribution: target.distribution,
          ...(plan.externalUrl
            ? {
                message: `External port from: ${plan.externalUrl}`,
                items: [`Automated port via debyard (no changes). ${checksum}`, ...options],
              }
            : { message: `Automated port via debyard (no changes) from ${plan.from}. ${checksum}`, items: options }),
        },
        env,
      );
      const id = await handOverSignedSource(
        {
          dir,
          tree,
          source: plan.source,
          version: target.version,
          distribution: target.distribution,
          since: authored.version,
          fields: { 'X-Debyard-Originally-Changed-By': authored.maintainer },
          origin,
        },
        { keys: this.opts.keys, intake: this.opts.intake, env },
      );
      this.opts.logger.info(
        { source: plan.source, from: plan.from, to: target.distribution, version: target.version, upload: id },
        'port handed over',
      );
      return id;
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  private async failed(
    source: string,
    version: string,
    from: string,
    to: string,
    by: string,
    reason: string,
    extra: Record<string, unknown>,
  ): Promise<void> {
    this.opts.logger.warn({ source, version, from, to, by, reason }, 'port failed');
    await this.opts.events.record(
      this.opts.orm.em.fork(),
      EventType.PORT_FAILED,
      `port of ${source} ${version} from ${from} to ${to} (${by}) failed: ${reason}`,
      { source, version, from, distribution: to, by, reason, ...extra },
    );
  }

  private context() {
    return { dataDir: this.opts.dataDir, keys: this.opts.keys, logger: this.opts.logger };
  }
}

/** Queues the auto-ports of an upload, in the transaction that records it INSTALLED. */
export function autoPortJobs(upload: Pick<Upload, 'id' | 'options'>): { distribution: string; jobKey: string }[] {
  const wanted = (upload.options as { autoPorts?: unknown }).autoPorts;
  if (!Array.isArray(wanted)) return [];
  return wanted
    .filter((d): d is string => typeof d === 'string')
    .map((distribution) => ({ distribution, jobKey: `auto-port:${upload.id}:${distribution}` }));
}

/** The upload an auto-port of `uploadId` to `distribution` made, if it made one (its origin says so). */
export function findAutoPort(em: EntityManager, uploadId: number, distribution: string): Promise<Upload | null> {
  return em.findOne(Upload, { via: UploadVia.PORT, port: { autoPortOf: uploadId }, distribution });
}

/** The target list of a port: at least one, at most MAX_TARGETS, none twice. */
function checkTargetList(to: string[]): void {
  if (!to.length) throw new DomainError('BAD_USER_INPUT', 'name at least one distribution to port to');
  if (to.length > MAX_TARGETS)
    throw new DomainError('BAD_USER_INPUT', `at most ${MAX_TARGETS} distributions at once, not ${to.length}`);
  const twice = to.find((d, i) => to.indexOf(d) !== i);
  if (twice) throw new DomainError('BAD_USER_INPUT', `${twice} is named twice`);
}

/**
 * One target of a port with its new version, checked as an upload of it would be (the version rule,
 * not in the repository yet, not lower, no upload of it under way) and against the targets before it.
 * A version already there, or an upload of it under way, is VERSION_EXISTS (the latter with `upload`).
 */
export async function checkTarget(
  em: EntityManager,
  env: UploadEnvironment,
  before: PlannedTarget[],
  source: string,
  to: Located,
  version: string,
  rebuild: boolean,
): Promise<PlannedTarget> {
  const parsed = parseVersion(version);
  if ('error' in parsed)
    throw new DomainError('VERSION_RULE', `the port to ${to.name} would get version ${version}: ${parsed.error}`);
  const clash = before.find((t) => t.repository === to.repo.identity && compareVersions(t.version, version) === 0);
  if (clash)
    throw new DomainError(
      'VERSION_EXISTS',
      `${to.name} and ${clash.distribution} would both get ${source} ${version}: port to one of them at a time`,
    );
  try {
    await checkVersion(env, { source, version }, to, isExperimental(to));
  } catch (err) {
    throw asDomainError(err);
  }
  const pending = await pendingUpload(em, to.repo.identity, source, version);
  if (pending)
    throw new DomainError(
      'VERSION_EXISTS',
      `${source} ${version} is already upload ${pending.id} (${pending.state.toLowerCase()}): wait for it, or port another version`,
      { upload: pending.id },
    );
  return { distribution: to.name, repository: to.repo.identity, version, rebuild };
}

/** A distribution that takes uploads now, or the upload checks' refusal as a DomainError. */
export function uploadTarget(env: UploadEnvironment, name: string): Located {
  try {
    return checkDistribution(located(env, name));
  } catch (err) {
    throw asDomainError(err);
  }
}

function located(env: UploadEnvironment, name: string): Located {
  const found = locate(env.repositories, name);
  if (found instanceof UploadRejection) throw asDomainError(found);
  return found;
}

function asDomainError(err: unknown): unknown {
  if (!(err instanceof UploadRejection)) return err;
  return new DomainError(err.code as ErrorCode, err.message);
}

function sameDistribution(a: Located, b: Located): boolean {
  return a.repo.identity === b.repo.identity && a.codename === b.codename && a.suite === b.suite;
}

function isExperimental(d: Located): boolean {
  return d.repo.suites.find((s) => s.name === d.suite)?.experimental ?? false;
}

/** A distribution's mandatory version pattern or default version, placeholders filled in. */
export function versionRule(d: Located, which: 'mandatory' | 'default'): string {
  const experimental = isExperimental(d);
  const rule =
    which === 'mandatory'
      ? experimental
        ? d.repo.experimentalMandatoryVersionRegex
        : d.repo.mandatoryVersionRegex
      : experimental
        ? d.repo.experimentalDefaultVersion
        : d.repo.defaultVersion;
  const codeversion = d.repo.distributions.find((x) => x.codename === d.codename)!.codeversion;
  return expandVersionRule(rule, d.repo.identity, codeversion);
}

/**
 * Options as `key=value`, checked as the upload's checks will read them. `auto-ports` is refused: a
 * port is named by its targets, and a chain of ports is easier to follow asked for one by one.
 */
function checkOptions(options: string[]): string[] {
  const lines = options.map((o) => o.trim());
  for (const o of lines) {
    if (!/^[^\s=*][^\n\r*]*=[^\n\r*]+$/.test(o) || o.length > 600)
      throw new DomainError('OPTION_INVALID', `"${o}" is not an upload option: write <key>=<value>, one per option`);
    if (/^auto-ports\s*=/.test(o))
      throw new DomainError('OPTION_INVALID', 'auto-ports cannot be given to a port: port to each distribution');
  }
  try {
    parseUploadOptions(lines.map((o) => `  * MINI_BUILDD_OPTION: ${o}`).join('\n'));
  } catch (err) {
    throw asDomainError(err);
  }
  return lines;
}

function checkStamp(stamp: string | null | undefined, now = new Date()): string {
  if (stamp == null) return rebuildStamp(now);
  const at = isRebuildStamp(stamp)
    ? Date.parse(
        `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(8, 10)}:${stamp.slice(10, 12)}:${stamp.slice(12, 14)}Z`,
      )
    : NaN;
  if (Number.isNaN(at) || at > now.getTime() + 60_000 || now.getTime() - at > STAMP_MAX_AGE_MS)
    throw new DomainError(
      'BAD_USER_INPUT',
      `rebuild stamp "${stamp}" is not a UTC time YYYYmmddHHMMSS of the last 24 hours: plan the port again`,
    );
  return stamp;
}

/** An upload of `source` `version` into `repository` that is not finished yet. */
async function pendingUpload(em: EntityManager, repository: string, source: string, version: string) {
  return em.findOne(Upload, {
    $or: [
      { repository, source, version, state: { $in: [UploadState.PACKAGING, UploadState.INSTALLING] } },
      { changesName: `${source}_${withoutEpoch(version)}_source.changes`, state: UploadState.RECEIVED },
    ],
  });
}
