/**
 * QA checks after a successful build: lintian and autopkgtest, each run on the host as the daemon's
 * user and appended to the build log under a `== <tool>` header.
 *
 * Modes as mini-buildd's: DISABLED never runs; IGNORE runs and records, never fails the build;
 * ERRFAIL fails it on errors; WARNFAIL on warnings too. Lintian's `--fail-on` already encodes the
 * mode in its exit code; autopkgtest's exit code is mapped to a QaResult and judged against the mode.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { ChrootBackend } from '../chroot/chroot.entity.js';
import { parseDeb822 } from '../debian/deb822.js';
import { QaMode } from '../distribution/distribution.entity.js';
import type { BuildSpec } from './build-spec.js';
import { QaResult } from './build.entity.js';

export interface QaOutcome {
  result: QaResult;
  /** Whether the distribution's mode makes the build fail on this result. */
  failed: boolean;
}

/** Whether `result` fails a build in `mode` (IGNORE and DISABLED never do). */
export function failsBuild(result: QaResult, mode: QaMode): boolean {
  switch (mode) {
    case QaMode.ERRFAIL:
      return result === QaResult.FAIL || result === QaResult.ERROR;
    case QaMode.WARNFAIL:
      return result === QaResult.FAIL || result === QaResult.ERROR || result === QaResult.WARN;
    default:
      return false;
  }
}

/**
 * Splits extra options from the configuration into argv words: whitespace separates, single and
 * double quotes group, no other shell syntax. Throws on an unbalanced quote.
 */
export function splitOptions(options: string): string[] {
  const words: string[] = [];
  const word = /\s*(?:"([^"]*)"|'([^']*)'|([^\s"']+))/y;
  let current: string | undefined;
  let at = 0;
  while (at < options.length) {
    if (/\s/.test(options[at]!)) {
      if (current !== undefined) words.push(current);
      current = undefined;
      at++;
      continue;
    }
    word.lastIndex = at;
    const m = word.exec(options);
    if (!m) throw new Error(`unbalanced quote in options: ${options}`);
    current = (current ?? '') + (m[1] ?? m[2] ?? m[3]!);
    at = word.lastIndex;
  }
  if (current !== undefined) words.push(current);
  return words;
}

/** The lintian argv for a mode (not DISABLED). */
export function lintianArgs(changesFile: string, mode: QaMode, extraOptions: string): string[] {
  return [
    '--suppress-tags',
    'bad-distribution-in-changes-file',
    '--fail-on',
    mode === QaMode.WARNFAIL ? 'error,warning' : 'error',
    ...splitOptions(extraOptions),
    changesFile,
  ];
}

/**
 * Runs lintian on a binary .changes. With `--fail-on` matching the mode, exit 0 is a pass or (with
 * `W:` lines) a warning, exit 2 a failure of the mode's level, anything else an error of lintian's.
 */
export async function runLintian(
  changesFile: string,
  mode: QaMode,
  extraOptions: string,
  logFile: string,
): Promise<QaOutcome> {
  if (mode === QaMode.DISABLED) return { result: QaResult.NOT_RUN, failed: false };
  let args: string[];
  try {
    args = lintianArgs(changesFile, mode, extraOptions);
  } catch (err) {
    await fsp.appendFile(logFile, `\n== lintian\nE: ${(err as Error).message}\n`);
    return { result: QaResult.ERROR, failed: failsBuild(QaResult.ERROR, mode) };
  }
  const { exitCode, output } = await runLogged('lintian', args, { cwd: path.dirname(changesFile), logFile });
  if (exitCode === 0) return { result: /^W: /m.test(output) ? QaResult.WARN : QaResult.PASS, failed: false };
  if (exitCode === 2) {
    // Tags at the mode's level were found. In WARNFAIL, whether any is an error decides FAIL or WARN.
    const result = mode === QaMode.WARNFAIL && !/^E: /m.test(output) ? QaResult.WARN : QaResult.FAIL;
    return { result, failed: mode !== QaMode.IGNORE };
  }
  return { result: QaResult.ERROR, failed: failsBuild(QaResult.ERROR, mode) };
}

/** autopkgtest's exit codes (man autopkgtest, "EXIT STATUS"). */
export function autopkgtestResult(exitCode: number | null): QaResult {
  switch (exitCode) {
    case 0:
      return QaResult.PASS;
    case 2: // at least one test skipped
    case 8: // no tests in this package
      return QaResult.WARN;
    case 4: // at least one test failed
    case 6: // failed and skipped
      return QaResult.FAIL;
    default: // 12 erroneous package, 16 testbed failure, 20 other, or killed
      return QaResult.ERROR;
  }
}

/** The autopkgtest argv: the built .debs, the .dsc (so the tests are found), then the virt server. */
export function autopkgtestArgs(spec: BuildSpec, debs: string[], outputDir: string): string[] {
  const virt =
    spec.chroot.backend === ChrootBackend.UNSHARE
      ? [
          'unshare',
          '--release',
          codenameOf(spec.distribution),
          '--arch',
          spec.architecture,
          '--tarball',
          spec.chroot.name,
        ]
      : ['schroot', spec.chroot.name];
  return ['--output-dir', outputDir, ...debs, path.resolve(spec.dsc), '--', ...virt];
}

/** `bookworm-test-unstable` → `bookworm`: debyard's distributions are `<codename>-<repo>-<suite>`. */
function codenameOf(distribution: string): string {
  return distribution.split('-')[0]!;
}

/** The .deb files a .changes lists, as absolute paths next to it. */
export async function debsOf(changesFile: string): Promise<string[]> {
  const text = await fsp.readFile(changesFile, 'utf8');
  const [changes] = parseDeb822(text, { source: path.basename(changesFile) });
  const files = changes?.lines('Files') ?? [];
  return files
    .map((line) => line.trim().split(/\s+/).pop()!)
    .filter((name) => name.endsWith('.deb') && !name.includes('/'))
    .map((name) => path.join(path.dirname(changesFile), name));
}

/** Runs autopkgtest in the build's chroot on what the build produced (`<workDir>/autopkgtest` keeps its output). */
export async function runAutopkgtest(
  spec: BuildSpec,
  workDir: string,
  changesFile: string,
  logFile: string,
): Promise<QaOutcome> {
  const mode = spec.autopkgtestMode;
  if (mode === QaMode.DISABLED) return { result: QaResult.NOT_RUN, failed: false };
  const outputDir = path.join(workDir, 'autopkgtest');
  // autopkgtest refuses an output directory that exists and is not empty.
  await fsp.rm(outputDir, { recursive: true, force: true });
  const debs = await debsOf(changesFile);
  // The virt servers need a cwd that also exists inside the testbed.
  const { exitCode } = await runLogged('autopkgtest', autopkgtestArgs(spec, debs, outputDir), { cwd: '/', logFile });
  const result = autopkgtestResult(exitCode);
  return { result, failed: failsBuild(result, mode) };
}

/**
 * Runs a tool with stdout and stderr appended to the log as they come (the log's own descriptor, as
 * for sbuild), under a `== tool` header, and returns its exit code and what it wrote.
 */
async function runLogged(
  tool: string,
  args: string[],
  opts: { cwd: string; logFile: string },
): Promise<{ exitCode: number | null; output: string }> {
  await fsp.appendFile(opts.logFile, `\n== ${tool}\n`);
  const { size: before } = await fsp.stat(opts.logFile);
  const log = fs.openSync(opts.logFile, 'a');
  let exitCode: number | null;
  try {
    exitCode = await new Promise<number | null>((resolve) => {
      const child = spawn(tool, args, {
        cwd: opts.cwd,
        env: { ...process.env, LC_ALL: 'C.UTF-8' },
        stdio: ['ignore', log, log],
      });
      child.once('error', (err) => {
        fs.appendFileSync(opts.logFile, `E: could not run ${tool}: ${err.message}\n`);
        resolve(null);
      });
      child.once('close', (code) => resolve(code));
    });
  } finally {
    fs.closeSync(log);
  }
  const handle = await fsp.open(opts.logFile, 'r');
  try {
    const { size } = await handle.stat();
    const buffer = Buffer.alloc(Math.min(size - before, 4 * 1024 * 1024));
    await handle.read(buffer, 0, buffer.length, before);
    const output = buffer.toString('utf8');
    await fsp.appendFile(opts.logFile, `== ${tool} exited with ${exitCode ?? 'no exit code'}\n`);
    return { exitCode, output };
  } finally {
    await handle.close();
  }
}
