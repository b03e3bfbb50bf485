import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

/**
 * An unprivileged `apt-get update` against one sources line only: throw-away state directories, the given
 * keyring as Signed-By, run as `nobody` when we are root. It checks exactly our repository's signature
 * and touches nothing of the host's apt configuration.
 */
export async function aptUpdate(
  line: (keyringPath: string) => string,
  keyring: Uint8Array,
): Promise<{ exitCode: number; output: string }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-apt-'));
  try {
    await fs.mkdir(path.join(dir, 'lists/partial'), { recursive: true });
    await fs.mkdir(path.join(dir, 'cache/archives/partial'), { recursive: true });
    const keyPath = path.join(dir, 'keyring.gpg');
    await fs.writeFile(keyPath, keyring);
    await fs.writeFile(path.join(dir, 'sources.list'), line(keyPath));
    const root = process.getuid?.() === 0;
    if (root) await execa('chown', ['-R', 'nobody', dir]);
    const apt = [
      'apt-get',
      ...['-o', `Dir::Etc::sourcelist=${dir}/sources.list`],
      ...['-o', 'Dir::Etc::sourceparts=/nonexistent'],
      ...['-o', `Dir::State::Lists=${dir}/lists`],
      ...['-o', `Dir::Cache=${dir}/cache`],
      ...['-o', 'APT::Update::Error-Mode=any'],
      'update',
    ];
    const r = await execa(root ? 'runuser' : apt[0]!, root ? ['-u', 'nobody', '--', ...apt] : apt.slice(1), {
      reject: false,
      all: true,
      env: { LANG: 'C.UTF-8' },
    });
    return { exitCode: r.exitCode ?? -1, output: String(r.all) };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/**
 * Installs packages with apt inside a throw-away session of a schroot chroot (an overlay: the chroot
 * stays as it was), from exactly one extra source whose Signed-By keyring is given: apt checks our
 * repository's signature as any client would. Then runs `check` (a shell command) in the same session.
 */
export async function aptInstallInChroot(
  chroot: string,
  opts: { line: (keyringPath: string) => string; keyring: Uint8Array; packages: string[]; check?: string },
): Promise<{ exitCode: number; output: string }> {
  const keyPath = '/etc/apt/keyrings/debyard-test.gpg';
  for (const p of opts.packages) if (!/^[a-z0-9][a-z0-9.+-]*$/.test(p)) throw new Error(`bad package name ${p}`);
  const script = [
    'set -e',
    'mkdir -p /etc/apt/keyrings',
    `base64 -d > ${keyPath}`,
    `printf '%s\\n' '${opts.line(keyPath).replace(/'/g, '')}' > /etc/apt/sources.list.d/debyard-test.list`,
    'apt-get -q -o APT::Update::Error-Mode=any update',
    `apt-get -q -y --no-install-recommends install ${opts.packages.join(' ')}`,
    opts.check ?? 'true',
  ].join('\n');
  const r = await execa('schroot', ['-d', '/', '-u', 'root', '-c', chroot, '--', 'sh', '-c', script], {
    reject: false,
    all: true,
    input: Buffer.from(opts.keyring).toString('base64'),
    env: { LANG: 'C.UTF-8' },
  });
  return { exitCode: r.exitCode ?? -1, output: String(r.all) };
}

/** What a loop of `apt-get update` saw. */
export interface AptLoopResult {
  runs: number;
  /** Runs that failed or warned, with apt's output. */
  failures: { at: string; output: string }[];
  /** Lines of the runs that fetched something by hash (`…/by-hash/SHA256/…`). */
  byHashFetches: number;
}

/** apt's names for a failed or suspicious update: any of them in the output counts as a failure. */
const APT_TROUBLE = /Hash Sum mismatch|Hashes of expected file|File has unexpected size|^(?:W|E|Err):/m;

/**
 * A client that runs `apt-get update` again and again (as `nobody` when we are root) with its own state
 * kept between runs, as a real one does, until `stop()`: each run fetches what changed since the last.
 * `options` are more `-o` settings (e.g. `Acquire::By-Hash=force`); `pauseMs` between runs leaves the
 * machine some room for what the loop watches.
 */
export async function aptUpdateLoop(opts: {
  line: (keyringPath: string) => string;
  keyring: Uint8Array;
  options?: string[];
  pauseMs?: number;
}): Promise<{ stop(): Promise<AptLoopResult> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-apt-loop-'));
  await fs.mkdir(path.join(dir, 'lists/partial'), { recursive: true });
  await fs.mkdir(path.join(dir, 'cache/archives/partial'), { recursive: true });
  const keyPath = path.join(dir, 'keyring.gpg');
  await fs.writeFile(keyPath, opts.keyring);
  await fs.writeFile(path.join(dir, 'sources.list'), opts.line(keyPath));
  const root = process.getuid?.() === 0;
  if (root) await execa('chown', ['-R', 'nobody', dir]);
  const apt = [
    'apt-get',
    ...['-o', `Dir::Etc::sourcelist=${dir}/sources.list`],
    ...['-o', 'Dir::Etc::sourceparts=/nonexistent'],
    ...['-o', `Dir::State::Lists=${dir}/lists`],
    ...['-o', `Dir::Cache=${dir}/cache`],
    ...['-o', 'APT::Update::Error-Mode=any'],
    ...['-o', 'Debug::Acquire::http=true'],
    ...(opts.options ?? []).flatMap((o) => ['-o', o]),
    'update',
  ];
  const result: AptLoopResult = { runs: 0, failures: [], byHashFetches: 0 };
  let stopping = false;
  const loop = (async () => {
    while (!stopping) {
      const r = await execa(root ? 'runuser' : apt[0]!, root ? ['-u', 'nobody', '--', ...apt] : apt.slice(1), {
        reject: false,
        all: true,
        env: { LANG: 'C.UTF-8' },
      });
      const output = String(r.all);
      result.runs++;
      result.byHashFetches += output.match(/^GET \S*\/by-hash\/SHA256\//gm)?.length ?? 0;
      if (r.exitCode !== 0 || APT_TROUBLE.test(output))
        result.failures.push({
          at: new Date().toISOString(),
          // apt's own lines, without the HTTP debugging.
          output: output
            .split('\n')
            .filter((l) => /^(?:W|E|Err|Get|Hit|Ign):|Hash|mismatch|expired/i.test(l))
            .join('\n'),
        });
      if (opts.pauseMs) await new Promise((resolve) => setTimeout(resolve, opts.pauseMs));
    }
  })();
  return {
    async stop() {
      stopping = true;
      await loop;
      await fs.rm(dir, { recursive: true, force: true });
      return result;
    },
  };
}

/**
 * Runs `script` (sh, `set -e` first) as root in a throw-away session of a schroot chroot (an overlay:
 * the chroot stays as it was), with `input` on its stdin: for set-ups aptInstallInChroot does not
 * cover, such as installing the keyring package and then following one of its sources.
 */
export async function inChrootSession(
  chroot: string,
  script: string[],
  input = '',
): Promise<{ exitCode: number; output: string }> {
  const r = await execa(
    'schroot',
    ['-d', '/', '-u', 'root', '-c', chroot, '--', 'sh', '-c', ['set -e', ...script].join('\n')],
    {
      reject: false,
      all: true,
      input,
      env: { LANG: 'C.UTF-8' },
    },
  );
  return { exitCode: r.exitCode ?? -1, output: String(r.all) };
}

/**
 * A throw-away chroot session (see {@link inChrootSession}) whose apt knows one source only, as a client
 * set up by hand would: Debian's sources go (nothing here needs them, and their indices take a while),
 * `line` becomes `/etc/apt/sources.list.d/<name>.list` — with `keyring` written to the path it gets
 * (for `signed-by`), when given — and `apt-get update` runs with warnings as errors; then `script`.
 */
export function aptSessionWithSource(
  chroot: string,
  source: { line: (keyringPath: string) => string; keyring?: Uint8Array; name?: string },
  script: string[],
): Promise<{ exitCode: number; output: string }> {
  const keyPath = '/etc/apt/keyrings/debyard.gpg';
  const name = source.name ?? 'debyard';
  if (!/^[a-z0-9-]+$/.test(name)) throw new Error(`bad sources file name ${name}`);
  return inChrootSession(
    chroot,
    [
      'rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*',
      ...(source.keyring ? ['mkdir -p /etc/apt/keyrings', `base64 -d > ${keyPath}`] : []),
      `printf '%s\\n' '${source.line(keyPath).replace(/'/g, '')}' > /etc/apt/sources.list.d/${name}.list`,
      'apt-get -q -o APT::Update::Error-Mode=any update',
      ...script,
    ],
    source.keyring ? Buffer.from(source.keyring).toString('base64') : '',
  );
}
