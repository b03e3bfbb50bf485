/**
 * The one wrapper around sbuild (0.89): the argv for a frozen BuildSpec, a run that logs straight into
 * the build log, the summary parser and the mapping to a BuildResult.
 *
 * Decisions, measured on bookworm with sbuild 0.89.3 (docs/… toolchain reference §2–§3):
 * - `--nolog`: sbuild then writes the whole log to stdout. Its stdout and stderr are the log file's own
 *   descriptor (opened for appending), not pipes: nothing is buffered in the daemon, clients tailing the
 *   file see every line as sbuild writes it, and when the daemon dies sbuild can still log its cleanup
 *   (a pipe would hand it SIGPIPE in the middle of ending its schroot session).
 * - `setpriv --pdeathsig TERM` execs sbuild, so a daemon that dies (even by SIGKILL) makes sbuild abort
 *   and clean up as on a cancel. `detached` makes sbuild a process group leader: the pid is also the
 *   group to signal when the daemon finds an orphaned build after a crash.
 * - DEB_BUILD_OPTIONS goes through the environment: sbuild's environment filter passes it into the
 *   build, and `-jN` adds `parallel=N` on top in dpkg-buildpackage. DEB_BUILD_PROFILES goes as
 *   `--profiles`, which sbuild also applies when it resolves build dependencies.
 * - An FTBFS and a cancelled build both end as `Status: attempted`, exit 2: only the caller knows it
 *   cancelled, so {@link resultOf} takes that as an argument.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ChrootBackend } from '../chroot/chroot.entity.js';
import { BuildDepResolver } from '../distribution/distribution.entity.js';
import type { BuildSpec } from './build-spec.js';
import { BuildResult } from './build.entity.js';

/** The argv after `sbuild` for one build; the .dsc comes last. */
export function sbuildArgs(spec: BuildSpec): string[] {
  const args =
    spec.chroot.backend === ChrootBackend.UNSHARE
      ? ['--chroot-mode=unshare', `--chroot=${absoluteTarball(spec.chroot.name)}`]
      : ['--chroot-mode=schroot', '-c', spec.chroot.name];
  args.push(
    '-d',
    spec.distribution,
    `--arch=${spec.architecture}`,
    spec.archAll ? '--arch-all' : '--no-arch-all',
    '--nolog',
    '--no-run-lintian',
    '--no-run-autopkgtest',
    '--no-run-piuparts',
    '--no-apt-update',
    '--no-apt-upgrade',
    '--no-apt-distupgrade',
    `--build-dep-resolver=${spec.buildDepResolver === BuildDepResolver.APTITUDE ? 'aptitude' : 'apt'}`,
  );
  if (spec.jobs > 0) args.push(`-j${Math.floor(spec.jobs)}`);
  for (const repo of spec.extraRepositories) {
    args.push(`--extra-repository=${repo.line}`);
    if (repo.keyFile) args.push(`--extra-repository-key=${repo.keyFile}`);
  }
  for (const key of spec.extraKeys ?? []) args.push(`--extra-repository-key=${key}`);
  if (spec.addDepends.trim() !== '') args.push(`--add-depends=${spec.addDepends.trim()}`);
  const profiles = spec.debBuildProfiles.trim().split(/\s+/).filter(Boolean).join(' ');
  if (profiles !== '') args.push(`--profiles=${profiles}`);
  // A .dsc named like an option would be read as one.
  args.push(path.resolve(spec.dsc));
  return args;
}

/** Environment variables the build needs on top of the daemon's own. */
export function sbuildEnv(spec: BuildSpec): Record<string, string> {
  const env: Record<string, string> = {};
  const options = spec.debBuildOptions.trim().split(/\s+/).filter(Boolean).join(' ');
  if (options !== '') env.DEB_BUILD_OPTIONS = options;
  return env;
}

/**
 * The Perl config unshare mode needs: unpack on tmpfs (in directories named after the instance, so
 * crash clean-up finds its own), and never build a tarball behind our back.
 */
export function unshareSbuildConfig(tmpdirTemplate = '/dev/shm/tmp.sbuild.XXXXXXXXXX'): string {
  if (!/^\/[\w./-]+XXXXXX$/.test(tmpdirTemplate)) throw new Error(`bad tmpdir template "${tmpdirTemplate}"`);
  return [`$unshare_tmpdir_template = '${tmpdirTemplate}';`, '$unshare_mmdebstrap_auto_create = 0;', '1;', ''].join(
    '\n',
  );
}

function absoluteTarball(name: string): string {
  // sbuild treats a --chroot without a slash as a name to look up (and maybe auto-create).
  if (!path.isAbsolute(name)) throw new Error(`unshare chroot must be an absolute tarball path, got "${name}"`);
  return name;
}

export interface SbuildOutcome {
  /** Summary `Status:` (successful, attempted, given-back, skipped, failed), null without a summary. */
  status: string | null;
  /** Summary `Fail-Stage:`, e.g. build, install-deps, create-session. */
  failStage: string | null;
  exitCode: number | null;
  /** The signal that ended sbuild, e.g. SIGKILL. */
  signal: string | null;
  /** Every `Name: value` line of the last summary block. */
  summary: Record<string, string>;
  /** `<workDir>/<src>_<version without epoch>_<arch>.changes` when sbuild wrote it. */
  changesFile: string | null;
  /** The last `E: ` line of the log, for people. */
  lastError: string | null;
  /** Wall time from spawn to exit. */
  seconds: number;
}

export interface SbuildRun {
  /** sbuild's pid, which is also its process group id. */
  pid: number;
  result: Promise<SbuildOutcome>;
  /** Asks sbuild to abort (SIGTERM): it ends its session and exits with status attempted. */
  cancel(): void;
}

export interface SbuildRunOptions {
  /** Where sbuild runs and leaves its artefacts; must exist. */
  workDir: string;
  /** Appended to; created when missing. */
  logFile: string;
  env?: Record<string, string>;
}

/** Starts sbuild for `spec`; see the module comment for how it is run. */
export function startSbuild(spec: BuildSpec, opts: SbuildRunOptions): SbuildRun {
  const workDir = path.resolve(opts.workDir);
  if (!fs.statSync(workDir).isDirectory()) throw new Error(`${workDir} is not a directory`);
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C.UTF-8', ...sbuildEnv(spec), ...opts.env };
  let configDir: string | undefined;
  if (spec.chroot.backend === ChrootBackend.UNSHARE) {
    configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'debyard-sbuild-'));
    env.SBUILD_CONFIG = path.join(configDir, 'unshare.conf');
    fs.writeFileSync(env.SBUILD_CONFIG, unshareSbuildConfig(spec.chroot.tmpdirTemplate));
  }

  const log = fs.openSync(opts.logFile, 'a');
  const started = performance.now();
  const child = spawn('setpriv', ['--pdeathsig', 'TERM', '--', 'sbuild', ...sbuildArgs(spec)], {
    cwd: workDir,
    env,
    detached: true,
    stdio: ['ignore', log, log],
  });
  // The child has its own copy of the descriptor now.
  fs.closeSync(log);

  const result = new Promise<SbuildOutcome>((resolve) => {
    let spawnError: Error | undefined;
    child.once('error', (err) => (spawnError = err));
    child.once('close', (code, signal) => {
      void (async () => {
        const seconds = (performance.now() - started) / 1000;
        if (configDir) await fsp.rm(configDir, { recursive: true, force: true });
        if (spawnError) await fsp.appendFile(opts.logFile, `E: could not start sbuild: ${spawnError.message}\n`);
        const tail = await readTail(opts.logFile, 256 * 1024);
        const summary = parseSummary(tail);
        const changes = path.join(workDir, changesFileName(spec.dsc, spec.architecture));
        resolve({
          status: summary.Status ?? null,
          failStage: summary['Fail-Stage'] ?? null,
          exitCode: code,
          signal,
          summary,
          changesFile: fs.existsSync(changes) ? changes : null,
          lastError: lastErrorLine(tail),
          seconds: Math.round(seconds * 10) / 10,
        });
      })();
    });
  });

  const pid = child.pid;
  if (pid === undefined) {
    // Only when setpriv itself cannot be started (no util-linux): there is no process to hand back.
    throw new Error('could not start setpriv (util-linux) to run sbuild');
  }
  return {
    pid,
    result,
    cancel() {
      const running = () => child.exitCode === null && child.signalCode === null;
      if (!running()) return;
      process.kill(pid, 'SIGTERM');
      // sbuild only notes a TERM that arrives while it installs build dependencies and goes on to build
      // (a minute, for slow-pkg). The step in progress is then ended too, and sbuild sees its abort
      // flag, ends its session and exits (measured: 1.3 s after the first TERM).
      setTimeout(() => {
        if (running()) void endBuildSteps(pid);
      }, CANCEL_GRACE_MS).unref();
    },
  };
}

/** How long sbuild gets to abort by itself before the step it runs is ended. */
const CANCEL_GRACE_MS = 800;

/**
 * Sends TERM to the processes of sbuild's group that run a build step (apt, dpkg-buildpackage, their
 * schroot --run-session wrappers), never to sbuild itself nor to schroot beginning or ending a session:
 * sbuild must still be able to clean up. Processes we may not signal (root's, inside the chroot) are
 * reached through their wrappers. Returns how many were signalled.
 */
export async function endBuildSteps(pgid: number): Promise<number> {
  let signalled = 0;
  for (const entry of await fsp.readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry) || Number(entry) === pgid) continue;
    const stat = await fsp.readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    // pid (comm) state ppid pgrp …: comm may hold spaces and parentheses, so read after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) !== pgid) continue;
    const argv = (await fsp.readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '')).split('\0');
    if (!isBuildStep(argv)) continue;
    try {
      process.kill(Number(entry), 'SIGTERM');
      signalled++;
    } catch {
      // gone, or not ours to signal
    }
  }
  return signalled;
}

/** Whether a process of sbuild's group runs a build step (see {@link endBuildSteps}). */
export function isBuildStep(argv: string[]): boolean {
  const program = path.basename(argv[0] ?? '');
  if (program === 'sbuild' || argv.some((a) => a.endsWith('/sbuild'))) return false;
  if (program === 'schroot') return argv.includes('--run-session') || argv.includes('-r');
  return true;
}

/** `<src>_<version without epoch>_<arch>.changes`, from the .dsc name (which already has no epoch). */
export function changesFileName(dsc: string, architecture: string): string {
  return `${path.basename(dsc).replace(/\.dsc$/, '')}_${architecture}.changes`;
}

async function readTail(file: string, bytes: number): Promise<string> {
  const handle = await fsp.open(file, 'r');
  try {
    const { size } = await handle.stat();
    const start = Math.max(0, size - bytes);
    const buffer = Buffer.alloc(size - start);
    await handle.read(buffer, 0, buffer.length, start);
    return buffer.toString('utf8');
  } finally {
    await handle.close();
  }
}

const SUMMARY_HEADER = /^\| Summary\b/;
const SUMMARY_FIELD = /^([A-Z][A-Za-z]*(?:[ -][A-Za-z]+)*): (.*)$/;

/**
 * The `Name: value` lines after the last `| Summary` header of an sbuild log (`Status`, `Fail-Stage`,
 * `Build-Time`, `Build Architecture`, …); `{}` when there is none. A later line wins.
 */
export function parseSummary(log: string): Record<string, string> {
  const lines = log.split('\n');
  let start = -1;
  for (let i = lines.length - 1; i >= 0; i--) {
    if (SUMMARY_HEADER.test(lines[i]!)) {
      start = i;
      break;
    }
  }
  const summary: Record<string, string> = {};
  if (start < 0) return summary;
  for (const line of lines.slice(start + 1)) {
    // The block ends with a dashed rule; `E: ` lines may follow it.
    if (/^-{20,}$/.test(line.trim())) break;
    const field = SUMMARY_FIELD.exec(line.trimEnd());
    if (field) summary[field[1]!] = field[2]!.trim();
  }
  return summary;
}

/**
 * The last `E: ` line of a log, without the prefix, and without sbuild's `Build failure (…)` wrapping
 * (`E: Build failure (dpkg-buildpackage died with exit 2)` gives `dpkg-buildpackage died with exit 2`).
 */
export function lastErrorLine(log: string): string | null {
  const matches = log.match(/^E: .*$/gm);
  if (!matches) return null;
  const line = matches[matches.length - 1]!.slice(3).trim();
  return /^Build failure \((.*)\)$/.exec(line)?.[1] ?? line;
}

const BY_STATUS: Record<string, BuildResult> = {
  successful: BuildResult.SUCCESSFUL,
  attempted: BuildResult.FAILED,
  'given-back': BuildResult.GIVEN_BACK,
  skipped: BuildResult.SKIPPED,
  failed: BuildResult.ERROR,
};

const BY_EXIT_CODE: Record<number, BuildResult> = {
  0: BuildResult.SUCCESSFUL,
  1: BuildResult.ERROR,
  2: BuildResult.FAILED,
  3: BuildResult.GIVEN_BACK,
};

/** Maps what sbuild did to a BuildResult, the fail stage and one line for people. */
export function resultOf(
  outcome: SbuildOutcome,
  cancelled: boolean,
): { result: BuildResult; failStage: string | null; reason: string } {
  const { status, failStage, exitCode, signal, lastError } = outcome;
  const atStage = failStage ? ` at stage ${failStage}` : '';
  const detail = lastError ? `: ${lastError}` : '';
  if (cancelled) {
    return { result: BuildResult.CANCELLED, failStage, reason: `cancelled${failStage ? ` during ${failStage}` : ''}` };
  }
  if (signal) {
    return { result: BuildResult.ERROR, failStage, reason: `sbuild was killed by ${signal}${detail}` };
  }
  const result =
    (status ? BY_STATUS[status] : undefined) ??
    (exitCode !== null ? BY_EXIT_CODE[exitCode] : undefined) ??
    BuildResult.ERROR;
  let reason: string;
  switch (result) {
    case BuildResult.SUCCESSFUL:
      reason = `built successfully${outcome.summary['Build-Time'] ? ` (build ${outcome.summary['Build-Time']} s)` : ''}`;
      break;
    case BuildResult.FAILED:
      reason = `build failed${atStage}${detail}`;
      break;
    case BuildResult.GIVEN_BACK:
      reason = `given back${atStage}${detail}`;
      break;
    case BuildResult.SKIPPED:
      reason = `skipped${atStage}${detail}`;
      break;
    default:
      reason = status
        ? `sbuild failed${atStage}${detail}`
        : `sbuild ended with exit code ${exitCode ?? 'none'} and no summary${detail}`;
  }
  return { result, failStage, reason };
}
