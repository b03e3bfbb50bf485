/*
 * The one wrapper around the Debian source tools a port uses: dpkg-source (-x, -b), dpkg-parsechangelog,
 * debchange and dpkg-genchanges. Argument arrays only, never a shell; a fixed environment (C.UTF-8, UTC,
 * the port's own HOME so no user configuration is read, DEBEMAIL/DEBFULLNAME of the instance), and a
 * time limit per call. A failure is a SourceToolError naming the tool and the last lines it printed.
 */
import { execa } from 'execa';
import { parseDeb822 } from '../debian/deb822.js';

const TIMEOUT_MS = 5 * 60 * 1000;

export class SourceToolError extends Error {
  override readonly name = 'SourceToolError';
  constructor(
    readonly tool: string,
    message: string,
  ) {
    super(message);
  }
}

/** Who the tools write as, and where they run. */
export interface ToolEnvironment {
  /** DEBEMAIL: the instance's e-mail address. */
  email: string;
  /** DEBFULLNAME: `debyard archive <identity>`. */
  fullName: string;
  /** HOME for the tools: the port's private directory, so that no ~/.devscripts or ~/.gnupg is read. */
  home: string;
}

export interface ChangelogEntry {
  version: string;
  /** `Name <email>`, as the trailer line has it. */
  maintainer: string;
  distribution: string;
}

async function run(tool: string, args: string[], cwd: string, env: ToolEnvironment): Promise<string> {
  const result = await execa(tool, args, {
    cwd,
    reject: false,
    stdin: 'ignore',
    timeout: TIMEOUT_MS,
    extendEnv: false,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: env.home,
      LC_ALL: 'C.UTF-8',
      TZ: 'UTC',
      DEBEMAIL: env.email,
      DEBFULLNAME: env.fullName,
    },
  });
  if (result.exitCode === 0) return String(result.stdout);
  const said = String(result.stderr || result.stdout)
    .trim()
    .split('\n')
    .slice(-5)
    .join(' / ');
  throw new SourceToolError(
    tool,
    `${tool} ${args[0] ?? ''} failed (${result.timedOut ? `no end after ${TIMEOUT_MS / 1000} s` : `exit ${result.exitCode ?? result.signal}`}): ${said || result.shortMessage}`,
  );
}

/** `dpkg-source -x DSC TREE` in `dir` (the .dsc and its files are there; its signature is not checked here). */
export async function extractSource(dir: string, dscName: string, tree: string, env: ToolEnvironment): Promise<void> {
  await run('dpkg-source', ['-x', dscName, tree], dir, env);
}

/** Every entry of `TREE/debian/changelog`, newest first. */
export async function changelogEntries(tree: string, env: ToolEnvironment): Promise<ChangelogEntry[]> {
  const out = await run('dpkg-parsechangelog', ['--format', 'rfc822', '--all'], tree, env);
  return parseDeb822(out).map((p) => ({
    version: p.get('Version') ?? '',
    maintainer: p.get('Maintainer') ?? '',
    distribution: p.get('Distribution') ?? '',
  }));
}

/**
 * A new top changelog entry by DEBFULLNAME <DEBEMAIL>: `message` as its first item, then `items`
 * (each its own `*` line). The version and distribution are taken as given (debchange's
 * --force-bad-version, --force-distribution): the rules are debyard's, checked before.
 */
export async function addChangelogEntry(
  tree: string,
  entry: { version: string; distribution: string; message: string; items: string[] },
  env: ToolEnvironment,
): Promise<void> {
  await run(
    'debchange',
    [
      '--no-conf',
      '--newversion',
      entry.version,
      '--force-distribution',
      '--force-bad-version',
      '--preserve',
      '--dist',
      entry.distribution,
      entry.message,
    ],
    tree,
    env,
  );
  for (const item of entry.items) await run('debchange', ['--no-conf', '--append', item], tree, env);
}

/** `dpkg-source -b TREE` in `dir`: the .dsc and its files next to the tree. */
export async function buildSource(dir: string, tree: string, env: ToolEnvironment): Promise<void> {
  await run('dpkg-source', ['-b', tree], dir, env);
}

/**
 * `dpkg-genchanges -S -sa [-v<since>]` in the tree (the .dsc one directory up): a source-only .changes
 * with every file (the orig tarball too) and the changelog entries after `since` (else the top one);
 * `fields` become extra fields (-D). Returns the .changes text, unsigned.
 */
export async function generateChanges(
  tree: string,
  opts: { since?: string; fields: Record<string, string> },
  env: ToolEnvironment,
): Promise<string> {
  const extra = Object.entries(opts.fields).map(([k, v]) => `-D${k}=${v}`);
  const since = opts.since ? [`-v${opts.since}`] : [];
  return run('dpkg-genchanges', ['-S', '-sa', ...since, ...extra], tree, env);
}
