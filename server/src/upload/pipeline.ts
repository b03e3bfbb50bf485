import fs from 'node:fs/promises';
import path from 'node:path';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { Build, BuildResult, BuildState } from '../build/build.entity.js';
import { distributionArchitectures, planBuild, type PlanContext } from '../build/build-plan.js';
import type { BuildSpec } from '../build/build-spec.js';
import type { BuildService } from '../build/build.service.js';
import { stripClearsign } from '../build/dsc.js';
import { parseSingleParagraph } from '../debian/deb822.js';
import { QaMode } from '../distribution/distribution.entity.js';
import { EventType } from '../events/event.entity.js';
import type { EventService } from '../events/event.service.js';
import { DomainError } from '../graphql/errors.js';
import { addJob, TASKS } from '../jobs/queue.js';
import { keyringMigrationJob } from '../keyring/keyring-migration.js';
import type { Logger } from '../log.js';
import type { InstanceKeyStore } from '../pgp/instance-key.js';
import { autoPortJobs } from '../port/port.js';
import { Repository } from '../repository/repository.entity.js';
import { repreproFor } from '../repository/repository.kind.js';
import type { Reprepro } from '../repository/reprepro.js';
import {
  opArgs,
  rollbackName,
  shiftOps,
  SourceListing,
  touchedBy,
  type RepreproExec,
} from '../repository/rollbacks.js';
import { checkUpload, UploadRejection, type CheckedUpload, type UploadOptions } from './checks.js';
import { Upload, UploadState } from './upload.entity.js';

export interface PipelineOptions {
  orm: MikroORM;
  events: EventService;
  builds: BuildService;
  keys: InstanceKeyStore;
  dataDir: string;
  plan: Omit<PlanContext, 'slots' | 'dataDir'>;
  logger: Logger;
  /** Build requests and results of other instances come in as uploads too; these take them. */
  transfers?: { isTransfer(upload: Upload): boolean; receive(id: number): Promise<void> };
}

/** Runs an upload from spool to INSTALLED, FAILED or REJECTED; every step is a job, every change an event. */
export class UploadPipeline {
  constructor(private readonly opts: PipelineOptions) {}

  /** graphile-worker tasks of the pipeline. */
  tasks() {
    return {
      [TASKS.PROCESS_UPLOAD]: (payload: unknown) => this.process(idOf(payload)),
      [TASKS.INSTALL_UPLOAD]: (payload: unknown) => this.install(idOf(payload)),
    };
  }

  /**
   * Checks an upload and queues one build per architecture it builds on, all in one transaction with
   * the PACKAGING event; or rejects it with the check's reason. Runs again harmlessly after a crash.
   */
  async process(id: number): Promise<void> {
    const em = this.opts.orm.em.fork();
    const upload = await em.findOne(Upload, id);
    if (!upload || upload.state !== UploadState.RECEIVED) return;
    if (this.opts.transfers?.isTransfer(upload)) return this.opts.transfers.receive(id);
    let checked: CheckedUpload | undefined;
    let plans: PlannedBuild[];
    try {
      checked = await checkUpload(
        em,
        { dataDir: this.opts.dataDir, keys: this.opts.keys, logger: this.opts.logger },
        upload,
      );
      plans = await this.planBuilds(em, checked);
      // Files the .dsc names that were not uploaded but are in the pool (an orig tarball) go next to it.
      for (const f of checked.fromPool) await fs.copyFile(f.path, path.join(upload.spoolDir, f.name));
    } catch (err) {
      if (!(err instanceof UploadRejection) && !(err instanceof DomainError)) throw err;
      const code = err instanceof UploadRejection ? err.code : String(err.extensions.code);
      const seen = await peekChanges(path.join(upload.spoolDir, upload.changesName));
      // A signature that was verified is recorded: the upload counts for replays (see checks.ts).
      const signer = err instanceof UploadRejection ? err.signedBy : checked?.signedBy;
      await em.transactional(async (tx) => {
        Object.assign(upload, seen);
        if (signer) Object.assign(upload, { signedBy: signer.fingerprint, uploader: signer.owner });
        upload.state = UploadState.REJECTED;
        upload.rejectCode = code;
        upload.reason = err.message;
        upload.finishedAt = new Date();
        await this.opts.events.record(tx, EventType.REJECTED, `${describe(upload)} rejected: ${err.message}`, {
          ...payload(upload),
          code,
        });
      });
      return;
    }
    await em.transactional(async (tx) => {
      // Uploads of one source in flight at once: the first to get here wins, a rival is rejected (what
      // is already installed was refused by the checks, from reprepro and the pool).
      await tx
        .getConnection()
        .execute(
          `select pg_advisory_xact_lock(hashtext(?))`,
          [`upload:${checked.repository}/${checked.source}`],
          'all',
          tx.getTransactionContext(),
        );
      const rejection = rivalOf(
        checked,
        await tx.find(Upload, {
          id: { $ne: upload.id },
          repository: checked.repository,
          source: checked.source,
          state: { $in: [UploadState.PACKAGING, UploadState.INSTALLING] },
        }),
      );
      if (rejection) {
        Object.assign(upload, {
          state: UploadState.REJECTED,
          source: checked.source,
          version: checked.version,
          distribution: checked.distribution,
          targetDistribution: checked.targetDistribution,
          repository: checked.repository,
          signedBy: checked.signedBy?.fingerprint ?? null,
          uploader: checked.signedBy?.owner ?? null,
          rejectCode: rejection.code,
          reason: rejection.message,
          finishedAt: new Date(),
        });
        await this.opts.events.record(tx, EventType.REJECTED, `${describe(upload)} rejected: ${rejection.message}`, {
          ...payload(upload),
          code: rejection.code,
        });
        return;
      }
      Object.assign(upload, {
        files: checked.files,
        state: UploadState.PACKAGING,
        source: checked.source,
        version: checked.version,
        distribution: checked.distribution,
        targetDistribution: checked.targetDistribution,
        repository: checked.repository,
        changedBy: checked.changedBy,
        signedBy: checked.signedBy?.fingerprint ?? null,
        uploader: checked.signedBy?.owner ?? null,
        options: checked.options as Record<string, unknown>,
      });
      await this.opts.events.record(
        tx,
        EventType.PACKAGING,
        `packaging ${describe(upload)} for ${plans.map((p) => p.architecture).join(', ')}`,
        { ...payload(upload), architectures: plans.map((p) => p.architecture) },
      );
      for (const p of plans) {
        const build = tx.create(Build, {
          source: checked.source,
          version: checked.version,
          distribution: checked.targetDistribution,
          architecture: p.architecture,
          archAll: p.spec.archAll,
          chroot: p.chroot,
          upload,
          optional: p.optional,
          requestedBy: upload.uploader ?? upload.changedBy,
          spec: p.spec,
        });
        await this.opts.builds.enqueue(tx, build, `${checked.source} ${checked.version} queued for ${p.architecture}`);
      }
    });
  }

  /** Called in the transaction that ends a build: the last build of an upload queues its install. */
  async buildFinished(tx: EntityManager, build: Build): Promise<void> {
    if (!build.upload) return;
    const open = await tx.count(Build, {
      upload: build.upload,
      state: { $ne: BuildState.BUILT },
      id: { $ne: build.id },
    });
    if (open === 0)
      await addJob(tx, TASKS.INSTALL_UPLOAD, { id: build.upload.id }, { jobKey: `install:${build.upload.id}` });
  }

  /**
   * Installs an upload whose builds are all in: every mandatory architecture must have succeeded (QA
   * included; experimental suites ignore QA). Rollbacks are shifted first, then includedsc and include
   * per architecture, all behind the repository's lock; a failure removes what was included and puts
   * the previous version back. Idempotent, so a crash mid-install just runs it again.
   */
  async install(id: number): Promise<void> {
    const em = this.opts.orm.em.fork();
    const upload = await em.findOne(Upload, id);
    if (!upload || (upload.state !== UploadState.PACKAGING && upload.state !== UploadState.INSTALLING)) return;
    const builds = await em.find(Build, { upload }, { orderBy: { architecture: 'asc' } });
    if (builds.some((b) => b.state !== BuildState.BUILT)) return; // a retried build will queue the install again
    const missing = builds.filter((b) => !b.optional && !succeeded(b));
    if (missing.length || builds.every((b) => !succeeded(b)))
      return this.fail(
        em,
        upload,
        `${missing.length || builds.length} mandatory architecture(s) failed: ` +
          (missing.length ? missing : builds)
            .map((b) => `${b.architecture} ${b.result!.toLowerCase()} (${b.reason ?? ''})`)
            .join('; '),
      );
    if (upload.state !== UploadState.INSTALLING)
      await em.transactional(async (tx) => {
        upload.state = UploadState.INSTALLING;
        await this.opts.events.record(tx, EventType.INSTALLING, `installing ${describe(upload)}`, payload(upload));
      });

    const repository = await em.findOneOrFail(
      Repository,
      { identity: upload.repository! },
      { populate: ['layout.suiteOptions.suite', 'distributions.baseSource'] },
    );
    const reprepro = repreproFor(
      { em, keys: this.opts.keys, dataDir: this.opts.dataDir, logger: this.opts.logger },
      repository,
    );
    const target = upload.targetDistribution!;
    const suite = target.slice(target.lastIndexOf('-') + 1);
    const suiteOption = repository.layout.suiteOptions.getItems().find((o) => o.suite.name === suite);
    const rollbacks = suiteOption?.rollbacks ?? 0;
    const changes: string[] = [];
    for (const b of builds.filter(succeeded)) {
      const out = path.join(this.opts.builds.buildDir(b.id), 'out');
      const found = (await fs.readdir(out).catch(() => [])).filter((f) => f.endsWith(`_${b.architecture}.changes`));
      changes.push(...found.map((f) => path.join(out, f)));
    }
    const dsc = path.join(upload.spoolDir, path.basename((builds[0]!.spec as BuildSpec).dsc));
    try {
      await installInto(reprepro, {
        target,
        source: upload.source!,
        version: upload.version!,
        rollbacks,
        dsc,
        changes,
      });
    } catch (err) {
      return this.fail(em, upload, `installing into ${target} failed: ${(err as Error).message}`);
    }
    // The auto-ports and the keyring package's migration are queued with the INSTALLED state: each
    // runs exactly once, after the commit.
    const autoPorts = autoPortJobs(upload);
    const migration = keyringMigrationJob(upload, suiteOption?.migratesTo ?? null);
    await em.transactional(async (tx) => {
      upload.state = UploadState.INSTALLED;
      upload.finishedAt = new Date();
      upload.reason = null;
      for (const port of autoPorts)
        await addJob(
          tx,
          TASKS.AUTO_PORT,
          { upload: upload.id, distribution: port.distribution },
          { jobKey: port.jobKey },
        );
      if (migration) await addJob(tx, TASKS.KEYRING_MIGRATE, { upload: upload.id }, { jobKey: migration.jobKey });
      await this.opts.events.record(
        tx,
        EventType.INSTALLED,
        `${describe(upload)} installed` +
          (autoPorts.length ? `; auto-ports to ${autoPorts.map((p) => p.distribution).join(', ')}` : '') +
          (migration ? `; migrating along from ${migration.distribution}` : ''),
        {
          ...payload(upload),
          builds: builds.map((b) => ({ architecture: b.architecture, build: b.id, result: b.result })),
          autoPorts: autoPorts.map((p) => p.distribution),
          migrateAlong: migration !== null,
        },
      );
    });
  }

  /** Re-runs a rejected or failed upload from its checks (its files are still in spool). */
  async retry(id: number, by: string): Promise<Upload> {
    const em = this.opts.orm.em.fork();
    const upload = await em.findOne(Upload, id);
    if (!upload) throw new DomainError('NOT_FOUND', `there is no upload ${id}`);
    if (upload.state !== UploadState.REJECTED && upload.state !== UploadState.FAILED)
      throw new DomainError(
        'BUILD_STATE',
        `upload ${id} is ${upload.state.toLowerCase()}; only a rejected or failed upload can be retried`,
      );
    await em.transactional(async (tx) => {
      // Earlier builds stay as they were, no longer tied to the upload.
      await tx.nativeUpdate(Build, { upload }, { upload: null });
      Object.assign(upload, {
        state: UploadState.RECEIVED,
        rejectCode: null,
        reason: null,
        finishedAt: null,
        attempt: upload.attempt + 1,
      });
      await addJob(tx, TASKS.PROCESS_UPLOAD, { id }, { jobKey: `upload:${id}` });
      await this.opts.events.record(
        tx,
        EventType.UPLOAD_RETRIED,
        `${describe(upload)} queued again by ${by}`,
        payload(upload),
      );
    });
    return upload;
  }

  private async fail(em: EntityManager, upload: Upload, reason: string): Promise<void> {
    await em.transactional(async (tx) => {
      upload.state = UploadState.FAILED;
      upload.reason = reason;
      upload.finishedAt = new Date();
      await this.opts.events.record(tx, EventType.FAILED, `${describe(upload)} failed: ${reason}`, payload(upload));
    });
  }

  /** One build per architecture of the target distribution that the source builds on. */
  private async planBuilds(em: EntityManager, checked: CheckedUpload): Promise<PlannedBuild[]> {
    const plans: PlannedBuild[] = [];
    const ctx = { ...this.opts.plan, dataDir: this.opts.dataDir, slots: this.opts.builds.slots };
    for (const option of await distributionArchitectures(em, checked.targetDistribution)) {
      const target = await planBuild(em, ctx, checked.targetDistribution, option.architecture, { onRemotes: true });
      const anyArch = checked.dscArchitectures.some((a) => archMatches(a, option.architecture));
      const archAll = target.archAll && checked.dscArchitectures.includes('all');
      if (!anyArch && !archAll) continue;
      plans.push({
        architecture: option.architecture,
        optional: option.optional,
        chroot: target.chrootKey,
        spec: applyOptions(
          { ...target.spec, archAll, dsc: checked.dsc },
          checked.options,
          option.architecture,
          checked.experimental,
        ),
      });
    }
    if (!plans.length)
      throw new UploadRejection(
        'NO_ARCHITECTURE',
        `${checked.source} builds for ${checked.dscArchitectures.join(' ')}, none of which ${checked.targetDistribution} builds (${(await distributionArchitectures(em, checked.targetDistribution)).map((o) => o.architecture).join(', ')})`,
      );
    return plans;
  }
}

/**
 * Why `checked` cannot go ahead next to uploads of its source already in flight in its repository: the
 * same version, or a file of the same name with other contents (an orig tarball both bring, for two
 * suites), which the pool can hold only once.
 */
export function rivalOf(
  checked: Pick<CheckedUpload, 'source' | 'version' | 'repository' | 'files'>,
  inFlight: Pick<Upload, 'id' | 'state' | 'version' | 'targetDistribution' | 'files'>[],
): UploadRejection | null {
  for (const rival of inFlight) {
    if (rival.version === checked.version)
      return new UploadRejection(
        'VERSION_EXISTS',
        `${checked.source} ${checked.version} is already ${rival.state.toLowerCase()} in ${checked.repository} (upload #${rival.id}): raise the version`,
      );
    for (const theirs of rival.files) {
      const mine = checked.files.find((f) => f.name === theirs.name);
      if (mine && mine.sha256 !== theirs.sha256)
        return new UploadRejection(
          'CHECKSUM_MISMATCH',
          `${mine.name} differs from the file of that name that upload #${rival.id} (${checked.source} ` +
            `${rival.version} for ${rival.targetDistribution}) is putting into repository ${checked.repository}'s ` +
            'pool: a pool file can have one content only; use the same orig tarball, or a new upstream version',
        );
    }
  }
  return null;
}

interface PlannedBuild {
  architecture: string;
  optional: boolean;
  chroot: string;
  spec: BuildSpec;
}

/** A .dsc Architecture token against a Debian architecture (any, linux-any, any-<cpu>, <arch>). */
export function archMatches(token: string, arch: string): boolean {
  return (
    token === 'any' || token === arch || token === 'linux-any' || token === `any-${arch}` || token === `linux-${arch}`
  );
}

/** Upload options (global, then `[arch]`) over the distribution's; experimental suites never fail on QA. */
export function applyOptions(spec: BuildSpec, options: UploadOptions, arch: string, experimental: boolean): BuildSpec {
  const merged = { ...options, ...(options.perArch?.[arch] ?? {}) };
  const out: BuildSpec = {
    ...spec,
    lintianMode: merged.lintianMode ?? spec.lintianMode,
    autopkgtestMode: merged.autopkgtestMode ?? spec.autopkgtestMode,
    debBuildOptions: merged.debBuildOptions ?? spec.debBuildOptions,
    debBuildProfiles: merged.debBuildProfiles ?? spec.debBuildProfiles,
    addDepends: merged.addDepends ?? spec.addDepends,
  };
  if (experimental) {
    const soften = (m: QaMode) => (m === QaMode.DISABLED ? m : QaMode.IGNORE);
    out.lintianMode = soften(out.lintianMode);
    out.autopkgtestMode = soften(out.autopkgtestMode);
  }
  return out;
}

function succeeded(b: Build): boolean {
  return b.result === BuildResult.SUCCESSFUL || b.result === BuildResult.SKIPPED;
}

interface InstallSpec {
  target: string;
  source: string;
  version: string;
  rollbacks: number;
  dsc: string;
  changes: string[];
}

/**
 * The install as one reprepro sequence behind the repository's lock: shift rollbacks (see
 * {@link shiftOps}: never twice when an interrupted install runs again), includedsc, include each
 * build's .changes, each without an export; then one export of the distributions it touched. On
 * failure the new version is removed again and the previous one restored from rollback0.
 */
export async function installInto(reprepro: Reprepro, spec: InstallSpec): Promise<void> {
  await reprepro.sequence(async (exec: RepreproExec) => {
    const quiet = (args: string[]) => exec(['--export=silent-never', ...args]);
    const listing = await SourceListing.read(exec, spec.source);
    const current = listing.versionIn(spec.target);
    const shift = shiftOps(listing, spec.target, spec.rollbacks, spec.version);
    for (const o of shift) await exec(opArgs(spec.source, o));
    const touched = new Set([spec.target, ...touchedBy(shift)]);
    const rollback0 = rollbackName(spec.target, 0);
    // The previous version is safe in rollback0 (shifted now, or by the interrupted run).
    const saved = current !== null && current !== spec.version && listing.after(shift).versionIn(rollback0) === current;
    try {
      await quiet(['includedsc', spec.target, spec.dsc]);
      for (const changes of spec.changes) await quiet(['include', spec.target, changes]);
    } catch (err) {
      await quiet(['removesrc', spec.target, spec.source, spec.version]).catch(() => undefined);
      if (saved) await quiet(['copysrc', spec.target, rollback0, spec.source, current]).catch(() => undefined);
      await exec(['export', ...touched]).catch(() => undefined);
      throw err;
    }
    await exec(['export', ...touched]);
  });
}

/** What a rejected .changes says about itself, as far as it can be read (for lists and the tracker). */
async function peekChanges(file: string): Promise<Partial<Pick<Upload, 'source' | 'version' | 'distribution'>>> {
  try {
    const p = parseSingleParagraph(stripClearsign(await fs.readFile(file, 'utf8')));
    const field = (name: string) => {
      const v = p.get(name)?.trim();
      return v && /^[A-Za-z0-9][A-Za-z0-9.+:~-]*$/.test(v) && v.length <= 200 ? v : undefined;
    };
    return {
      source: field('Source') ?? null,
      version: field('Version') ?? null,
      distribution: field('Distribution') ?? null,
    };
  } catch {
    return {};
  }
}

function idOf(payload: unknown): number {
  const id = Number((payload as { id?: unknown } | null)?.id);
  if (!Number.isInteger(id)) throw new Error(`bad job payload ${JSON.stringify(payload)}`);
  return id;
}

function describe(u: Upload): string {
  return u.source
    ? `${u.source} ${u.version} (${u.targetDistribution ?? u.distribution}) upload #${u.id}`
    : `${u.changesName} upload #${u.id}`;
}

export function payload(u: Upload): Record<string, unknown> {
  return {
    upload: u.id,
    source: u.source,
    version: u.version,
    distribution: u.targetDistribution ?? u.distribution,
    repository: u.repository,
    changes: u.changesName,
    changesUrl: `/uploads/${u.id}/${u.changesName}`,
    signedBy: u.signedBy,
    uploader: u.uploader,
    state: u.state,
    reason: u.reason,
  };
}
