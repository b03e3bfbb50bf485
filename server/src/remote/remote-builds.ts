import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import express, { type Router } from 'express';
import type * as openpgp from 'openpgp';
import { Build, BuildResult, BuildState, QaResult, type ForPackager } from '../build/build.entity.js';
import { NO_CHROOT } from '../build/build-plan.js';
import type { BuildSpec } from '../build/build-spec.js';
import { buildEventPayload as payload, describeBuild as describe, type BuildService } from '../build/build.service.js';
import { chrootRef } from '../chroot/chroot-ops.js';
import { Chroot } from '../chroot/chroot.entity.js';
import { BuildDepResolver, QaMode } from '../distribution/distribution.entity.js';
import type { EngineComponent } from '../engine/engine.js';
import { EventType } from '../events/event.entity.js';
import type { EventService } from '../events/event.service.js';
import { addJob, TASKS } from '../jobs/queue.js';
import { ConfigStatus } from '../lifecycle/lifecycle.js';
import type { Logger } from '../log.js';
import type { InstanceKeyStore } from '../pgp/instance-key.js';
import { readArmoredKeys } from '../pgp/verify.js';
import { Upload, UploadState } from '../upload/upload.entity.js';
import { orderCandidates, Turns, type Candidate } from './choose.js';
import { Remote } from './remote.entity.js';
import {
  fieldText,
  ftpUpload,
  newTimecode,
  readBuildRequest,
  readBuildResult,
  sbuildStatusFor,
  transferKind,
  TransferError,
  writeBuildRequest,
  writeBuildResult,
  type BuildRequestFields,
  type BuildResultFields,
} from './transfer.js';
import { RemoteClient, type InstanceStatus } from './wire.js';

/** A build sent to another instance is sent again at most this often (it went down meanwhile). */
const MAX_ATTEMPTS = 3;
/** How long a builder's status may take when a build is dispatched (mini-buildd: 2 s). */
const STATUS_TIMEOUT_MS = 3000;
/** How often the logs of builds running on other instances are fetched. */
const FOLLOW_INTERVAL_MS = 1000;
/** A builder that has not made a build of a request this long after it was sent refused or lost it. */
const LOST_AFTER_MS = 60_000;
/** Where an instance serves the logs of builds others asked it for (mini-buildd's builds-dir). */
export const BUILDS_DIR_PATH = '/mini_buildd/builds-dir';
/** A result is sent again until the packager takes it (graphile-worker backs off up to hours). */
const RESULT_ATTEMPTS = 30;

export interface RemoteBuildsOptions {
  orm: MikroORM;
  events: EventService;
  builds: BuildService;
  keys: InstanceKeyStore;
  dataDir: string;
  logger: Logger;
  /** This instance as others reach it. */
  self(): { identity: string; url: string; incomingUrl: string };
  /** The base URL the daemon's own build sources use (rewritten to `self().url` for other builders). */
  loopbackHttpUrl(): string;
}

/** Why a build request or result is refused: recorded on its Upload row and as a REJECTED event. */
class Refusal extends Error {
  override readonly name = 'Refusal';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Follow {
  /** Bytes of the builder's log copied so far. */
  offset: number;
  /** Length of our own header at the top of the local log. */
  header: number;
}

/**
 * Building with other instances, both sides, in mini-buildd's wire format (reference/mini-buildd.md
 * §3.4, §3.5, §5.3). As packager: a queued build goes to the builder with the lowest load among this
 * instance and its active remotes with a chroot for it, as a signed build request over FTP; its log is
 * followed over HTTP while it builds; the signed result comes back through the incoming and ends the
 * build. As builder: a signed request from an active remote becomes a local build, whose signed result
 * is sent back until the packager has it. A remote that stops being active gets its builds taken back.
 */
export class RemoteBuilds {
  private readonly turns = new Turns();
  private readonly follows = new Map<number, Follow>();
  private followTimer: NodeJS.Timeout | null = null;
  private following = false;

  constructor(private readonly opts: RemoteBuildsOptions) {}

  tasks() {
    return {
      [TASKS.DISPATCH_BUILD]: (payload: unknown) => this.dispatch(idOf(payload)),
      [TASKS.SEND_BUILD_RESULT]: (payload: unknown) => this.sendResult(idOf(payload)),
    };
  }

  /** Follows remote builds' logs while the engine runs, and takes back builds of remotes gone meanwhile. */
  component(): EngineComponent {
    return {
      name: 'remote builds',
      start: async () => {
        await this.recoverLost();
        this.followTimer = setInterval(() => void this.followLogs(), FOLLOW_INTERVAL_MS);
      },
      stop: async () => {
        if (this.followTimer) clearInterval(this.followTimer);
        this.followTimer = null;
        this.follows.clear();
      },
    };
  }

  /**
   * BuildService.onEnqueue: builds go through the dispatcher while there are active remotes (and
   * always when this instance has no chroot for them: the dispatcher then says why none can build).
   */
  async route(tx: EntityManager, build: Build): Promise<boolean> {
    if (build.spec.chroot.name && (await tx.count(Remote, { status: ConfigStatus.ACTIVE })) === 0) return false;
    await addJob(tx, TASKS.DISPATCH_BUILD, { id: build.id }, { jobKey: `build:${build.id}`, maxAttempts: 5 });
    return true;
  }

  /**
   * Chooses the builder of a queued build and hands it over: a local slot, or a build request to a
   * remote. A builder that cannot take it is skipped; none at all ends the build with the reasons.
   */
  async dispatch(id: number): Promise<void> {
    const em = this.opts.orm.em.fork();
    const build = await em.findOne(Build, id);
    if (!build || build.state !== BuildState.QUEUED) return;
    const [codename, architecture] = splitChroot(build.chroot);
    const wanted = `${codename}:${architecture}`;
    const passed: string[] = [];
    const candidates: (Candidate & { remote: Remote | null; status: InstanceStatus | null })[] = [];

    const local = await em.findOne(
      Chroot,
      { source: { codename }, architecture, status: ConfigStatus.ACTIVE },
      { populate: ['source'] },
    );
    if (local)
      candidates.push({
        key: 'self',
        name: this.opts.self().identity,
        load: await this.opts.builds.queueLoad(em),
        remote: null,
        status: null,
      });
    else passed.push(`this instance has no active chroot ${build.chroot}`);
    const remotes = await em.find(Remote, { status: ConfigStatus.ACTIVE }, { orderBy: { url: 'asc' } });
    await Promise.all(
      remotes.map(async (remote) => {
        const name = `${remote.identity || '?'} (${remote.url})`;
        try {
          const status = await new RemoteClient(remote.url, STATUS_TIMEOUT_MS).status();
          if (status.load < 0) return void passed.push(`${name} has its engine stopped`);
          if (!status.chroots.includes(wanted)) return void passed.push(`${name} has no chroot ${wanted}`);
          candidates.push({ key: remote.url, name: remote.identity, load: status.load, remote, status });
        } catch (err) {
          passed.push(`${name}: ${(err as Error).message}`);
        }
      }),
    );

    for (const c of orderCandidates(candidates, this.turns.lastChosen)) {
      if (!c.remote) {
        await em.transactional(async (tx) => {
          // Planned while this instance had no chroot for it: it has one now.
          if (!build.spec.chroot.name) build.spec = { ...build.spec, chroot: chrootRef(local!, this.opts.dataDir) };
          await this.opts.builds.enqueueLocal(tx, build);
        });
        this.turns.chose(c.key);
        return;
      }
      try {
        await this.sendRequest(em, build, c.remote, c.status!);
        this.turns.chose(c.key);
        return;
      } catch (err) {
        if (!(err instanceof TransferError)) throw err;
        this.opts.logger.warn({ build: id, remote: c.remote.url, err: err.message }, 'a builder did not take a build');
        passed.push(`${c.name} (${c.remote.url}) did not take it: ${err.message}`);
      }
    }
    await em.transactional((tx) =>
      this.opts.builds.finish(
        tx,
        build,
        BuildResult.ERROR,
        'dispatch',
        `no builder for ${wanted}: ${passed.length ? passed.join('; ') : 'this instance has no active remotes'}`,
      ),
    );
  }

  /** Signs and sends the build request; the build is BUILDING there once the builder's incoming has it. */
  private async sendRequest(em: EntityManager, build: Build, remote: Remote, status: InstanceStatus): Promise<void> {
    const self = this.opts.self();
    const timecode = newTimecode();
    // Recorded first: a result for this request is only taken with this timecode, from this remote.
    await em.transactional(async () => {
      build.sentTo = remote.url;
      build.timecode = timecode;
    });
    const dir = path.join(this.opts.builds.buildDir(build.id), `request-${randomBytes(4).toString('hex')}`);
    try {
      const spec = build.spec;
      const fields: BuildRequestFields = {
        distribution: build.distribution,
        source: build.source,
        version: build.version,
        architecture: build.architecture,
        timecode,
        uploadTo: self.incomingUrl,
        packager: self.url,
        builder: remote.url,
        archAll: build.archAll,
        buildDepResolver: spec.buildDepResolver.toLowerCase(),
        debBuildOptions: spec.debBuildOptions,
        debBuildProfiles: spec.debBuildProfiles,
        addDepends: spec.addDepends,
        lintianMode: spec.lintianMode,
        lintianExtraOptions: spec.lintianExtraOptions,
        autopkgtestMode: spec.autopkgtestMode,
        buildlog: this.buildlogOf(build),
      };
      const loopback = this.opts.loopbackHttpUrl();
      const aptSources = spec.extraRepositories.map((r) =>
        loopback ? r.line.replace(` ${loopback}/`, ` ${self.url}/`) : r.line,
      );
      const keyFiles = [
        ...new Set([...spec.extraRepositories.map((r) => r.keyFile).filter(Boolean), ...(spec.extraKeys ?? [])]),
      ];
      const aptKeys = (await Promise.all(keyFiles.map((f) => fs.readFile(f, 'utf8')))).map((k) => k.trim() + '\n');
      const written = await writeBuildRequest(
        dir,
        fields,
        { aptSources: aptSources.map((l) => l + '\n').join(''), aptPreferences: '', aptKeys: aptKeys.join('') },
        spec.dsc,
        (text) => this.opts.keys.signCleartext(text),
      );
      try {
        await ftpUpload(status.incomingUrl || remote.incomingUrl, written.files);
      } catch (err) {
        await em.transactional(async () => {
          build.sentTo = null;
          build.timecode = null;
        });
        throw err;
      }
      await fs.writeFile(
        this.opts.builds.logPath(build.id),
        `debyard: ${build.source} ${build.version} for ${build.distribution} on ${build.architecture}, attempt ${build.attempt}: ` +
          `sent to ${remote.identity} (${remote.url}); its log follows\n`,
      );
      await em.refresh(build);
      if (build.state !== BuildState.QUEUED) return; // cancelled meanwhile: its result will be refused
      await em.transactional(async (tx) => {
        build.state = BuildState.BUILDING;
        build.startedAt = new Date();
        build.builder = remote.identity || remote.url;
        await this.opts.events.record(tx, EventType.BUILD_STARTED, `building ${describe(build)} on ${build.builder}`, {
          ...payload(build),
          builder: build.builder,
          builderUrl: remote.url,
        });
      });
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  /** The upload pipeline's part for build requests and results that came in through the incoming. */
  isTransfer(upload: Upload): boolean {
    return transferKind(upload.changesName) !== null;
  }

  /**
   * Takes a build request or result from the incoming; a refused one stays as a REJECTED upload with
   * its code and reason (and a REJECTED event), so every refusal is on record.
   */
  async receive(id: number): Promise<void> {
    const em = this.opts.orm.em.fork();
    const upload = await em.findOne(Upload, id);
    if (!upload || upload.state !== UploadState.RECEIVED) return;
    const kind = transferKind(upload.changesName);
    const staging = path.join(this.opts.dataDir, 'builds', `.incoming-${randomBytes(6).toString('hex')}`);
    try {
      if (kind === 'request') await this.takeRequest(em, upload, staging);
      else await this.takeResult(em, upload, staging);
    } catch (err) {
      if (!(err instanceof Refusal) && !(err instanceof TransferError)) throw err;
      const what = kind === 'request' ? 'build request' : 'build result';
      this.opts.logger.warn({ upload: id, code: err.code, reason: err.message }, `refused a ${what}`);
      await em.transactional(async (tx) => {
        upload.state = UploadState.REJECTED;
        upload.rejectCode = err.code;
        upload.reason = err.message;
        upload.finishedAt = new Date();
        await this.opts.events.record(
          tx,
          EventType.REJECTED,
          `${upload.changesName} (upload ${upload.id}) refused: ${err.message}`,
          { upload: upload.id, changesName: upload.changesName, code: err.code, transfer: kind },
        );
      });
    } finally {
      await fs.rm(staging, { recursive: true, force: true });
    }
  }

  /** Reads a transfer that must be signed by an active remote; returns it and that remote. */
  private async readFromRemote<T extends { signedBy: string }>(
    em: EntityManager,
    what: string,
    read: (keys: openpgp.PublicKey[]) => Promise<T>,
  ): Promise<[T, Remote]> {
    const { keys, by } = await this.remoteKeys(em);
    if (!keys.length)
      throw new Refusal('UNKNOWN_KEY', `a ${what}, but this instance has no active remotes to take one from`);
    const transfer = await read(keys);
    const remote = by.get(transfer.signedBy);
    if (!remote) throw new Refusal('UNKNOWN_KEY', `signed by ${transfer.signedBy}, which is no active remote's key`);
    return [transfer, remote];
  }

  /** The keys of our active remotes, and who each fingerprint is. */
  private async remoteKeys(em: EntityManager): Promise<{ keys: openpgp.PublicKey[]; by: Map<string, Remote> }> {
    const remotes = await em.find(Remote, { status: ConfigStatus.ACTIVE, armored: { $ne: '' } });
    const keys: openpgp.PublicKey[] = [];
    const by = new Map<string, Remote>();
    for (const r of remotes)
      for (const key of await readArmoredKeys(r.armored, r.url)) {
        keys.push(key);
        by.set(key.getFingerprint().toUpperCase(), r);
      }
    return { keys, by };
  }

  private async takeRequest(em: EntityManager, upload: Upload, staging: string): Promise<void> {
    const [request, remote] = await this.readFromRemote(em, 'build request', (keys) =>
      readBuildRequest(path.join(upload.spoolDir, upload.changesName), keys, staging),
    );
    const f = request.fields;
    const packager = { packager: remote.url, identity: remote.identity, uploadTo: f.uploadTo, buildlog: f.buildlog };
    const seen = await em.findOne(Build, { timecode: f.timecode, forPackager: { packager: remote.url } });
    if (seen)
      throw new Refusal(
        'REPLAYED_REQUEST',
        `${remote.identity} (${remote.url}) asked for this build already (timecode ${f.timecode}, build ${seen.id})`,
      );
    const codename = f.distribution.split('-')[0]!;
    const chroot = await em.findOne(
      Chroot,
      { source: { codename }, architecture: f.architecture, status: ConfigStatus.ACTIVE },
      { populate: ['source'] },
    );
    const spec: BuildSpec = {
      dsc: '',
      distribution: f.distribution,
      architecture: f.architecture,
      archAll: f.archAll,
      chroot: chroot ? chrootRef(chroot, this.opts.dataDir) : NO_CHROOT,
      extraRepositories: request.config.aptSources
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.startsWith('deb '))
        .map((line) => ({ line, keyFile: '' })),
      extraKeys: [],
      buildDepResolver:
        f.buildDepResolver.toUpperCase() === 'APTITUDE' ? BuildDepResolver.APTITUDE : BuildDepResolver.APT,
      debBuildOptions: f.debBuildOptions,
      debBuildProfiles: f.debBuildProfiles,
      addDepends: f.addDepends,
      jobs: Math.max(1, Math.floor(os.availableParallelism() / Math.max(1, this.opts.builds.slots))),
      lintianMode: qaMode(f.lintianMode),
      lintianExtraOptions: f.lintianExtraOptions,
      autopkgtestMode: qaMode(f.autopkgtestMode),
    };
    await em.transactional(async (tx) => {
      const build = tx.create(Build, {
        source: f.source,
        version: f.version,
        distribution: f.distribution,
        architecture: f.architecture,
        archAll: f.archAll,
        chroot: `${codename}-${f.architecture}`,
        requestedBy: remote.identity || remote.url,
        spec,
        timecode: f.timecode,
        forPackager: packager satisfies ForPackager,
      });
      await tx.flush();
      const dir = this.opts.builds.buildDir(build.id);
      await fs.rm(dir, { recursive: true, force: true });
      await fs.mkdir(dir, { recursive: true });
      await fs.rename(staging, path.join(dir, 'source'));
      const keyFiles: string[] = [];
      for (const [i, block] of armoredBlocks(request.config.aptKeys).entries()) {
        const file = path.join(dir, 'keys', `apt-key-${i}.asc`);
        await fs.mkdir(path.dirname(file), { recursive: true });
        await fs.writeFile(file, block, { mode: 0o644 });
        keyFiles.push(file);
      }
      build.spec = {
        ...spec,
        dsc: path.join(dir, 'source', path.relative(staging, request.dsc)),
        extraKeys: keyFiles,
      };
      const summary = `${describe(build)} requested by ${build.requestedBy}`;
      if (chroot) await this.opts.builds.enqueue(tx, build, summary);
      else {
        await this.opts.events.record(tx, EventType.BUILD_QUEUED, summary, payload(build));
        await this.opts.builds.finish(
          tx,
          build,
          BuildResult.ERROR,
          'dispatch',
          `${this.opts.self().identity} has no active chroot ${codename}-${f.architecture}`,
        );
      }
      tx.remove(upload);
    });
    await fs.rm(upload.spoolDir, { recursive: true, force: true });
  }

  private async takeResult(em: EntityManager, upload: Upload, staging: string): Promise<void> {
    const [result, remote] = await this.readFromRemote(em, 'build result', (keys) =>
      readBuildResult(path.join(upload.spoolDir, upload.changesName), keys, staging),
    );
    const f = result.fields;
    const what = `${f.source} ${f.version} on ${f.architecture} (timecode ${f.timecode})`;
    const build = await em.findOne(Build, {
      timecode: f.timecode,
      source: f.source,
      version: f.version,
      architecture: f.architecture,
      forPackager: null,
    });
    if (!build)
      throw new Refusal(
        'BUILD_NOT_REQUESTED',
        `no build of ${what} was requested from ${remote.identity} (${remote.url}): never asked for, or an earlier attempt sent elsewhere since`,
      );
    if (build.sentTo !== remote.url)
      throw new Refusal(
        'BUILD_NOT_REQUESTED',
        `build ${build.id} of ${what} was sent to ${build.sentTo ?? 'no remote'}, not to ${remote.identity} (${remote.url})`,
      );
    if (build.state === BuildState.BUILT)
      throw build.result === BuildResult.CANCELLED
        ? new Refusal(
            'BUILD_CANCELLED',
            `build ${build.id} of ${what} was cancelled by ${build.cancelRequestedBy ?? 'someone'}`,
          )
        : new Refusal('RESULT_REPLAYED', `build ${build.id} of ${what} has its result already (${build.result})`);

    const dir = this.opts.builds.buildDir(build.id);
    const out = path.join(dir, 'out');
    await fs.rm(out, { recursive: true, force: true });
    await fs.mkdir(out, { recursive: true });
    if (result.binaryChanges)
      for (const name of await fs.readdir(path.dirname(result.binaryChanges)))
        if (path.join(path.dirname(result.binaryChanges), name) !== result.log)
          await fs.rename(path.join(path.dirname(result.binaryChanges), name), path.join(out, name));
    // The builder's whole log below our first line: what the follower copied is its beginning. Renamed
    // into place, so that a reader following the file never sees it shrink.
    this.follows.delete(build.id);
    const logFile = this.opts.builds.logPath(build.id);
    const header = (await fs.readFile(logFile, 'utf8').catch(() => '')).split('\n')[0];
    const tmp = `${logFile}.${randomBytes(4).toString('hex')}.tmp`;
    const first = Buffer.from(`${header || `debyard: built on ${remote.identity}`}\n`);
    await fs.writeFile(tmp, Buffer.concat([first, await fs.readFile(result.log)]));
    await fs.rename(tmp, logFile);
    await em.transactional(async (tx) => {
      build.lintian = qaResult(f.lintian);
      build.autopkgtest = qaResult(f.autopkgtest);
      build.sbuildSeconds = f.sbuildSeconds;
      build.qaSeconds = f.qaSeconds;
      build.builder = remote.identity || remote.url;
      await this.opts.builds.finish(tx, build, buildResult(f.result), f.failStage, f.reason);
      tx.remove(upload);
    });
    await fs.rm(upload.spoolDir, { recursive: true, force: true });
  }

  /** BuildService.onFinished, builder side: a build another instance asked for sends its result back. */
  async buildFinished(tx: EntityManager, build: Build): Promise<void> {
    if (!build.forPackager) return;
    await addJob(
      tx,
      TASKS.SEND_BUILD_RESULT,
      { id: build.id },
      { jobKey: `build-result:${build.id}`, maxAttempts: RESULT_ATTEMPTS },
    );
  }

  /** Signs the result of a build another instance asked for and sends it to its incoming (retried by the queue). */
  async sendResult(id: number): Promise<void> {
    const em = this.opts.orm.em.fork();
    const build = await em.findOne(Build, id);
    if (!build?.forPackager || build.state !== BuildState.BUILT || build.resultSentAt) return;
    const to = build.forPackager;
    const out = path.join(this.opts.builds.buildDir(id), 'out');
    const changes = (await fs.readdir(out).catch(() => [])).find((f) => f.endsWith(`_${build.architecture}.changes`));
    const fields: BuildResultFields = {
      distribution: build.distribution,
      source: build.source,
      version: build.version,
      architecture: build.architecture,
      timecode: build.timecode ?? '',
      builder: this.opts.self().url,
      buildlog: to.buildlog,
      uploadTo: to.uploadTo,
      // A QA failure was a successful sbuild run; mini-buildd reads the checks' own fields for it.
      sbuildStatus:
        build.failStage === 'lintian' || build.failStage === 'autopkgtest'
          ? 'successful'
          : sbuildStatusFor(build.result ?? BuildResult.ERROR),
      result: build.result ?? BuildResult.ERROR,
      failStage: build.failStage,
      reason: fieldText(build.reason ?? ''),
      lintian: build.lintian,
      autopkgtest: build.autopkgtest,
      sbuildSeconds: build.sbuildSeconds,
      qaSeconds: build.qaSeconds,
      canceledBy: build.result === BuildResult.CANCELLED ? fieldText(build.cancelRequestedBy ?? 'someone') : null,
      internalError: build.result === BuildResult.ERROR ? fieldText(build.reason ?? 'error') : null,
    };
    const dir = path.join(this.opts.builds.buildDir(id), `result-${randomBytes(4).toString('hex')}`);
    try {
      const log = this.opts.builds.logPath(id);
      await fs.appendFile(log, ''); // a build that never started has no log yet
      const written = await writeBuildResult(
        dir,
        fields,
        log,
        changes && build.result === BuildResult.SUCCESSFUL ? path.join(out, changes) : null,
        (text) => this.opts.keys.signCleartext(text),
      );
      await ftpUpload(to.uploadTo, written.files);
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
    build.resultSentAt = new Date();
    await em.flush();
    this.opts.logger.info({ build: id, to: to.packager }, 'sent a build result');
  }

  /**
   * Builds sent to a remote that is no longer active (down, deactivated, removed) are taken back and
   * dispatched again (attempt + 1; the late result of the earlier attempt is refused).
   */
  async recoverLost(): Promise<void> {
    const em = this.opts.orm.em.fork();
    const active = new Set((await em.find(Remote, { status: ConfigStatus.ACTIVE })).map((r) => r.url));
    const lost = await em.find(Build, { state: BuildState.BUILDING, sentTo: { $ne: null } });
    for (const build of lost.filter((b) => !active.has(b.sentTo!)))
      await this.takeBack(
        em,
        build,
        `${build.builder ?? build.sentTo} (${build.sentTo}) is no longer an active remote`,
      );
  }

  /** Dispatches a build sent to a remote again (attempt + 1), or ends it after MAX_ATTEMPTS. */
  private async takeBack(em: EntityManager, build: Build, why: string): Promise<void> {
    this.follows.delete(build.id);
    this.opts.logger.warn({ build: build.id, reason: why }, 'taking a build back from a remote');
    await em.transactional(async (tx) => {
      if (build.attempt >= MAX_ATTEMPTS) {
        await this.opts.builds.finish(
          tx,
          build,
          BuildResult.ERROR,
          'dispatch',
          `${why}; given up after ${build.attempt} attempts`,
        );
        return;
      }
      Object.assign(build, {
        state: BuildState.QUEUED,
        startedAt: null,
        builder: null,
        sentTo: null,
        timecode: null,
        attempt: build.attempt + 1,
      });
      await addJob(tx, TASKS.DISPATCH_BUILD, { id: build.id }, { jobKey: `build:${build.id}`, maxAttempts: 5 });
      await this.opts.events.record(tx, EventType.BUILD_REQUEUED, `${describe(build)} queued again: ${why}`, {
        ...payload(build),
        reason: why,
      });
    });
  }

  /** Copies what the builders' logs grew by into the local logs, which the console streams as usual. */
  private async followLogs(): Promise<void> {
    if (this.following) return;
    this.following = true;
    try {
      const em = this.opts.orm.em.fork();
      const remote = await em.find(Build, { state: BuildState.BUILDING, sentTo: { $ne: null } });
      const now = new Set(remote.map((b) => b.id));
      for (const id of this.follows.keys()) if (!now.has(id)) this.follows.delete(id);
      await Promise.all(remote.map((b) => this.followLog(b).catch(() => undefined)));
    } catch (err) {
      this.opts.logger.warn({ err }, 'following remote build logs failed');
    } finally {
      this.following = false;
    }
  }

  private async followLog(build: Build): Promise<void> {
    const file = this.opts.builds.logPath(build.id);
    let follow = this.follows.get(build.id);
    if (!follow) {
      // After a restart the local copy starts again below our own first line.
      const header = (await fs.readFile(file, 'utf8').catch(() => '')).split('\n')[0] + '\n';
      await fs.writeFile(file, header);
      follow = { offset: 0, header: Buffer.byteLength(header) };
      this.follows.set(build.id, follow);
    }
    const res = await fetch(`${build.sentTo}${BUILDS_DIR_PATH}/${this.buildlogOf(build)}`, {
      headers: { Range: `bytes=${follow.offset}-` },
      signal: AbortSignal.timeout(5000),
    });
    if (res.status === 404 && Date.now() - (build.startedAt?.getTime() ?? Date.now()) > LOST_AFTER_MS) {
      // A debyard builder has the build within seconds of the request: it refused or lost it.
      await this.takeBack(
        this.opts.orm.em.fork(),
        build,
        `${build.builder} (${build.sentTo}) has no build for the request sent ${Math.round(LOST_AFTER_MS / 1000)} s ago: it refused or lost it (see its events)`,
      );
      return;
    }
    if (res.status !== 206 && res.status !== 200) return;
    let body = Buffer.from(await res.arrayBuffer());
    if (res.status === 200) body = body.subarray(follow.offset);
    if (!body.length || this.follows.get(build.id) !== follow) return;
    await fs.appendFile(file, body);
    follow.offset += body.length;
  }

  /** The build log's path as the request names it (X-Mini-Buildd-Buildlog), one per attempt. */
  private buildlogOf(build: Build): string {
    return `${this.opts.self().identity}/${build.id}-${build.attempt}/${build.source}_${build.version}_${build.architecture}.buildlog`;
  }

  /** Builder side: `GET /mini_buildd/builds-dir/<buildlog>` serves the log of a build a packager asked for. */
  buildsDirRouter(): Router {
    const router = express.Router();
    router.get('/{*rest}', (req, res, next) => {
      const rest = (req.params as { rest?: string[] }).rest ?? [];
      const buildlog = rest.join('/');
      void this.opts.orm.em
        .fork()
        .findOne(Build, { forPackager: { buildlog } }, { orderBy: { id: 'desc' } })
        .then((build) => {
          if (!build) return void res.status(404).type('text/plain').send(`no build log ${buildlog} here\n`);
          res.sendFile(this.opts.builds.logPath(build.id), { acceptRanges: true, cacheControl: false }, (err) => {
            if (err && !res.headersSent) res.status(404).type('text/plain').send(`no build log ${buildlog} yet\n`);
          });
        }, next);
    });
    return router;
  }
}

function idOf(payload: unknown): number {
  return Number((payload as { id?: unknown }).id);
}

/** `bookworm-amd64` → [bookworm, amd64]. */
function splitChroot(key: string): [string, string] {
  const at = key.lastIndexOf('-');
  return [key.slice(0, at), key.slice(at + 1)];
}

function qaMode(value: string): QaMode {
  const mode = value.toUpperCase() as QaMode;
  return Object.values(QaMode).includes(mode) ? mode : QaMode.DISABLED;
}

function qaResult(value: string): QaResult {
  const r = value.toUpperCase().replace(/ /g, '_') as QaResult;
  return Object.values(QaResult).includes(r) ? r : QaResult.NOT_RUN;
}

function buildResult(value: string): BuildResult {
  const r = value.toUpperCase() as BuildResult;
  return Object.values(BuildResult).includes(r) ? r : BuildResult.ERROR;
}

/** The armored key blocks in a text of several (sbuild takes one key per file). */
function armoredBlocks(text: string): string[] {
  return [...text.matchAll(/-----BEGIN PGP PUBLIC KEY BLOCK-----[\s\S]*?-----END PGP PUBLIC KEY BLOCK-----/g)].map(
    (m) => m[0] + '\n',
  );
}
