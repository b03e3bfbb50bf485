/**
 * Instances made each other's remotes (`debyard remote …`), as the remotes and network suites use
 * them: a remote's row as `remote list --json` prints it, and waiting for its check state.
 */
import assert from 'node:assert/strict';
import { eventually, type CliResult, type TestDaemon } from './daemon.js';

export interface RemoteRow {
  url: string;
  status: string;
  checkState: string;
  problem: string | null;
  identity: string;
  fingerprint: string;
  load: number | null;
  chroots: string[];
  builds: number | null;
  seenAt: string | null;
}

/** Checks of remotes every second instead of every minute: `debyard serve` arguments. */
export const CHECK_EVERY = ['--remote-check-interval', '1'];

/** The CLI's stdout, after asserting that it exited 0 (naming `what` and its output if not). */
export function ok(r: CliResult, what: string): string {
  assert.equal(r.exitCode, 0, `${what} failed:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** `daemon`'s remote `url` as `debyard remote list --json` shows it. */
export async function remoteOn(daemon: TestDaemon, url: string): Promise<RemoteRow> {
  const rows = JSON.parse(ok(await daemon.cli(['remote', 'list', '--json']), 'remote list')) as RemoteRow[];
  const row = rows.find((r) => r.url === url);
  assert.ok(row, `${url} is not among the remotes: ${JSON.stringify(rows)}`);
  return row;
}

/** Waits until `daemon`'s remote `url` is in `checkState` (CHECKED, AUTO_REACTIVATE, …). */
export async function remoteBecomes(
  daemon: TestDaemon,
  url: string,
  checkState: string,
  timeoutMs = 30_000,
): Promise<RemoteRow> {
  let last: RemoteRow | undefined;
  try {
    return await eventually(async () => {
      last = await remoteOn(daemon, url);
      return last.checkState === checkState ? last : undefined;
    }, timeoutMs);
  } catch (err) {
    throw new Error(`${daemon.httpUrl}'s remote ${url} did not become ${checkState}: ${JSON.stringify(last)}`, {
      cause: err,
    });
  }
}

/** A build as `debyard builds --json` prints it, with what the network suites look at. */
export interface BuildRow {
  id: string;
  source: string;
  version: string;
  state: string;
  result: string | null;
  builder: string | null;
}

/** Which instance a build's `builder` names: the plain identity, or the local `identity@host`. */
export function builderOf(build: BuildRow): string | null {
  return /^([a-z0-9][a-z0-9.+-]*)(@|$)/.exec(build.builder ?? '')?.[1] ?? null;
}

/** `daemon`'s builds of `source` `version`, newest first (`debyard builds --json`). */
export async function buildsOn(daemon: TestDaemon, source: string, version: string): Promise<BuildRow[]> {
  const out = ok(await daemon.cli(['builds', '--json', '--source', source]), 'builds');
  return (JSON.parse(out) as { nodes: BuildRow[] }).nodes.filter((b) => b.version === version);
}
