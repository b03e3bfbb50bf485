/**
 * Real source uploads for tests: a fixture package built with dpkg-source, its .changes made with
 * dpkg-genchanges -S, signed with debsign by a throwaway gpg key. What dput would send, so the
 * e2e tests can upload the same files.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { PACKAGES_DIR, type FixturePackage } from './packages.js';

const ENV = { LC_ALL: 'C.UTF-8', TZ: 'UTC' };

/** A gpg key in its own GNUPGHOME; `dispose()` stops its gpg-agent and removes it. */
export interface UploaderKey {
  fingerprint: string;
  userId: string;
  /** ASCII-armored public key, as an Uploader or a repository's extra keys take it. */
  armored: string;
  gnupgHome: string;
  dispose(): Promise<void>;
}

/** gpg options that make it believe it is `at` (frozen), e.g. to sign or make a key in the past. */
export function fakedSystemTime(at: Date): string[] {
  return ['--faked-system-time', `${at.toISOString().replace(/[-:]|\.\d+Z$/g, '')}!`];
}

/**
 * Generates a signing key (no passphrase) in a fresh GNUPGHOME under /tmp (short, for gpg-agent's
 * socket path): Ed25519 unless `algorithm` says e.g. `rsa2048`. `expire` is gpg's (`never`, `1d`,
 * `seconds=5`); `createdAt` backdates the key (to sign in the past with it).
 */
export async function generateUploaderKey(
  opts: { name?: string; email?: string; expire?: string; algorithm?: string; createdAt?: Date } = {},
): Promise<UploaderKey> {
  const gnupgHome = await fs.mkdtemp(path.join('/tmp', 'dy-gpg-'));
  await fs.chmod(gnupgHome, 0o700);
  const userId = `${opts.name ?? 'Test Uploader'} <${opts.email ?? 'uploader@debyard.example.org'}>`;
  const gpg = (args: string[]) =>
    execa('gpg', ['--homedir', gnupgHome, '--batch', '--no-tty', ...args], { env: ENV, stdin: 'ignore' });
  await gpg([
    ...(opts.createdAt ? fakedSystemTime(opts.createdAt) : []),
    '--passphrase',
    '',
    '--quick-gen-key',
    userId,
    opts.algorithm ?? 'ed25519',
    'sign',
    opts.expire ?? 'never',
  ]);
  const { stdout } = await gpg(['--with-colons', '--list-keys']);
  const fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(stdout)?.[1];
  if (!fingerprint) throw new Error(`gpg made no key in ${gnupgHome}: ${stdout}`);
  const armored = (await gpg(['--armor', '--export', fingerprint])).stdout;
  return {
    fingerprint,
    userId,
    armored,
    gnupgHome,
    dispose: async () => {
      await execa('gpgconf', ['--homedir', gnupgHome, '--kill', 'gpg-agent'], { reject: false, stdin: 'ignore' });
      await fs.rm(gnupgHome, { recursive: true, force: true });
    },
  };
}

export interface MakeUploadOptions {
  /** Replaces the changelog's; a version with a Debian revision (`1.0-1`) makes a 3.0 (quilt) package. */
  version?: string;
  /** The changelog's Distribution, e.g. `bookworm-test-unstable` or a meta-distribution. */
  distribution?: string;
  /** More items for the top changelog entry, e.g. `MINI_BUILDD_OPTION: lintian-mode=ignore`. */
  changesExtra?: string[];
  /** dpkg-genchanges' -sa (always include the orig tarball) or -sd (never); default its own rule. */
  include?: 'orig' | 'no-orig';
  /** An orig tarball to reuse (a pool's copy), instead of making one; quilt packages only. */
  orig?: string;
  /**
   * Runs after dpkg-source, before dpkg-genchanges, in `dir`: may replace a tarball or edit the .dsc;
   * afterwards every checksum and size in the .dsc is made to fit the files again.
   */
  editSource?: (source: { dir: string; dsc: string }) => Promise<void>;
  /** Edits the .changes text before it is signed, e.g. to drop a field. */
  edit?: (changes: string) => string;
  /** Signs the .changes (and .dsc) with debsign; unsigned if absent. */
  sign?: UploaderKey;
  /** Signs the .dsc with this key instead (before the .changes is made); the .changes with `sign`. */
  signDsc?: UploaderKey;
  /** More gpg options for debsign's gpg (single words), e.g. `fakedSystemTime(date)` or `--digest-algo SHA1`. */
  gpgOptions?: string[];
  /** Edits the bytes of the .changes after signing (a raw change the signature does not cover). */
  editSigned?: (changes: Buffer) => Buffer;
  /** Where the files go; a new temporary directory if absent. */
  outDir?: string;
}

export interface MadeUpload {
  dir: string;
  /** Absolute path of the .changes. */
  changes: string;
  changesName: string;
  /** SHA-256 of the .changes as written. */
  changesSha256: string;
  dsc: string;
  /** Every file the .changes lists (its own name not included). */
  files: string[];
}

/** Builds a source upload of fixture `name` (see {@link MakeUploadOptions}). */
export async function makeUpload(name: FixturePackage | string, opts: MakeUploadOptions = {}): Promise<MadeUpload> {
  const dir = opts.outDir ?? (await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-upload-')));
  await fs.mkdir(dir, { recursive: true });
  const fixture = path.join(PACKAGES_DIR, name);
  let changelog = await fs.readFile(path.join(fixture, 'debian/changelog'), 'utf8');
  const head = /^(\S+) \(([^)]+)\) ([^;]+);/.exec(changelog);
  if (!head || head[1] !== name) throw new Error(`the changelog of ${name} does not start with "${name} (<version>)"`);
  const version = opts.version ?? head[2]!;
  const distribution = opts.distribution ?? head[3]!;
  changelog = changelog.replace(/^(\S+) \([^)]+\) [^;]+;/, `$1 (${version}) ${distribution};`);
  if (opts.changesExtra?.length)
    changelog = changelog.replace(/^( {2}\* .*)$/m, (first) =>
      [first, ...opts.changesExtra!.map((i) => `  * ${i}`)].join('\n'),
    );

  const plain = version.replace(/^\d+:/, '');
  const dash = plain.lastIndexOf('-');
  const upstream = dash < 0 ? plain : plain.slice(0, dash);
  const tree = path.join(dir, `${name}-${upstream}`);
  await fs.rm(tree, { recursive: true, force: true });
  await fs.cp(fixture, tree, { recursive: true });
  try {
    await fs.writeFile(path.join(tree, 'debian/changelog'), changelog);
    if (dash >= 0) {
      await fs.writeFile(path.join(tree, 'debian/source/format'), '3.0 (quilt)\n');
      const orig = path.join(dir, `${name}_${upstream}.orig.tar.gz`);
      if (opts.orig) await fs.copyFile(opts.orig, orig);
      else await makeOrig(dir, path.basename(tree), orig);
    }
    await execa('dpkg-source', ['-b', path.basename(tree)], { cwd: dir, env: ENV });
    const dsc = path.join(dir, `${name}_${plain}.dsc`);
    if (opts.editSource) {
      await opts.editSource({ dir, dsc });
      await refreshChecksums(dsc);
    }
    if (opts.signDsc) await debsign(opts.signDsc, dsc, opts.gpgOptions);
    const include = opts.include === 'orig' ? ['-sa'] : opts.include === 'no-orig' ? ['-sd'] : [];
    const changesName = `${name}_${plain}_source.changes`;
    const { stdout } = await execa('dpkg-genchanges', ['-S', ...include], { cwd: tree, env: ENV });
    const changes = path.join(dir, changesName);
    await fs.writeFile(changes, opts.edit ? opts.edit(stdout + '\n') : stdout + '\n');
    // --no-re-sign keeps a .dsc signed by signDsc as it is.
    if (opts.sign) await debsign(opts.sign, changes, opts.gpgOptions, ['--no-re-sign']);
    if (opts.editSigned) await fs.writeFile(changes, opts.editSigned(await fs.readFile(changes)));
    const text = await fs.readFile(changes);
    const files = [...text.toString('utf8').matchAll(/^ [0-9a-f]{64} \d+ (\S+)$/gm)].map((m) => m[1]!);
    return {
      dir,
      changes,
      changesName,
      changesSha256: createHash('sha256').update(text).digest('hex'),
      dsc,
      files,
    };
  } finally {
    await fs.rm(tree, { recursive: true, force: true });
  }
}

/** Signs `file` (a .changes, with its .dsc, or a .dsc) with debsign, as a person would. */
async function debsign(key: UploaderKey, file: string, gpgOptions: string[] = [], debsignOptions: string[] = []) {
  if (gpgOptions.some((o) => /\s/.test(o)))
    throw new Error(`gpg options must be single words: ${gpgOptions.join(' ')}`);
  // debsign splits -p on spaces (it is a shell script), so the options ride along with the program.
  const program = gpgOptions.length ? ['-p', ['gpg', ...gpgOptions].join(' ')] : [];
  await execa('debsign', ['--no-conf', `-k${key.fingerprint}`, ...program, ...debsignOptions, path.basename(file)], {
    cwd: path.dirname(file),
    env: { ...ENV, GNUPGHOME: key.gnupgHome },
    stdin: 'ignore',
  });
}

/** Makes every `<hash> <size> <name>` line of an unsigned .dsc fit the file `name` next to it again. */
async function refreshChecksums(dsc: string): Promise<void> {
  const text = await fs.readFile(dsc, 'utf8');
  const algorithms: Record<number, string> = { 32: 'md5', 40: 'sha1', 64: 'sha256' };
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    const m = /^ ([0-9a-f]{32}|[0-9a-f]{40}|[0-9a-f]{64}) \d+ (\S+)$/.exec(line);
    const bytes = m ? await fs.readFile(path.join(path.dirname(dsc), m[2]!)).catch(() => null) : null;
    if (!m || !bytes) {
      lines.push(line);
      continue;
    }
    const hash = createHash(algorithms[m[1]!.length]!).update(bytes).digest('hex');
    lines.push(` ${hash} ${bytes.length} ${m[2]}`);
  }
  await fs.writeFile(dsc, lines.join('\n'));
}

/**
 * Sends the files of `u` and then its .changes in one FTP session with curl, as a client that checks
 * nothing (dput would refuse some of what tests send).
 */
export async function ftpSend(ftpPort: number, u: Pick<MadeUpload, 'dir' | 'changes' | 'files'>): Promise<void> {
  const args = ['-sS', '--max-time', '30'];
  for (const f of [...u.files.map((name) => path.join(u.dir, name)), u.changes])
    args.push('-T', f, `ftp://127.0.0.1:${ftpPort}/${path.basename(f)}`);
  const r = await execa('curl', args, { reject: false });
  if (r.exitCode !== 0) throw new Error(`curl could not send ${path.basename(u.changes)}: ${String(r.stderr)}`);
}

/** A reproducible orig tarball of the tree without debian/ (same bytes every time). */
async function makeOrig(dir: string, treeName: string, orig: string): Promise<void> {
  const tar = orig.replace(/\.gz$/, '');
  await execa(
    'tar',
    [
      '--sort=name',
      '--mtime=@0',
      '--owner=0',
      '--group=0',
      '--numeric-owner',
      '--exclude=debian',
      '-cf',
      tar,
      treeName,
    ],
    { cwd: dir, env: ENV },
  );
  await fs.rm(orig, { force: true });
  await execa('gzip', ['-n', '-9', tar], { env: ENV });
}
