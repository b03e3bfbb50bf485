/*
 * Publishing apt can trust (issue 6, item 6): by-hash indices, Acquire-By-Hash, and a switch that an
 * `apt-get update` running at any moment never sees half done.
 *
 * reprepro 5.3 writes no by-hash files. It writes every new index as `<name>.new`, then calls the
 * distribution's `SignWith` hook with the new Release, and only after the hook returns renames the
 * `.new` files into place (and deletes them all if the hook fails). So the hook, run by reprepro inside
 * the repository's mutex, is the one place every export of every command passes through (`export`,
 * `--export=changed` after includes, copies and removals, `gensnapshot`, even a person running reprepro
 * by hand), at the one moment that makes the switch safe: it links each listed index to
 * `<dir>/by-hash/SHA256/<hash>` first, adds `Acquire-By-Hash: yes` to the new Release and signs it
 * (InRelease, Release.gpg) with the instance key. A client holding an older InRelease fetches older
 * by-hash files, which are kept (`sweepByHash`, run under the same mutex after every reprepro call) for
 * the newest KEEP_GENERATIONS Release files and for every one replaced less than KEEP_MS ago.
 *
 * `Date` comes from reprepro, `Valid-Until` from its `ValidFor` (a repository's `releaseValidDays`),
 * dropped again for snapshots, which never get re-signed and must not expire.
 */
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseSingleParagraph, type Paragraph } from '../debian/deb822.js';

/** The hook's file name inside the repository's conf/. */
export const SIGN_HOOK_NAME = 'debyard-sign-release';
/** Below the basedir: one JSON file per distribution with the Release generations whose by-hash files are kept. */
export const HISTORY_DIR = 'by-hash-history';
/** The newest Release files whose by-hash files are always kept. */
export const KEEP_GENERATIONS = 3;
/** A Release replaced less than this long ago keeps its by-hash files (a slow client may still be on it). */
export const KEEP_MS = 60 * 60 * 1000;

const FINGERPRINT = /^(?:[0-9A-F]{16}|[0-9A-F]{40}|[0-9A-F]{64})$/;
const SHA256 = /^[0-9a-f]{64}$/;

function perlQuote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * The `SignWith: ! <hook>` program for reprepro, with the signing key and its GNUPGHOME written in.
 * Arguments: the new Release, the InRelease and the Release.gpg to write. Each index the Release lists
 * under SHA256 is taken from `<name>.new` (written by this export) or `<name>` (unchanged), whichever
 * has that hash (a listed form reprepro does not write, such as the uncompressed Contents, is skipped),
 * and hard-linked (copied where links fail) to its content-addressed name through a temporary name, so
 * a by-hash file is never seen half written.
 *
 * Perl with perl-base's modules only (Essential on Debian, so always there), one `sha256sum` for all
 * files and two `gpg` calls: reprepro runs the hook once per distribution, a repository has dozens, and
 * a shell loop forking per index made a repository's first export take 40 s (Node.js started per
 * distribution still took 10 s, and over a minute on a loaded machine).
 */
export function signHookScript(opts: { fingerprint: string; gnupgHome: string }): string {
  const fingerprint = opts.fingerprint.toUpperCase();
  if (!FINGERPRINT.test(fingerprint)) throw new Error(`${JSON.stringify(opts.fingerprint)} is not a key fingerprint`);
  // eslint-disable-next-line no-control-regex
  if (!path.isAbsolute(opts.gnupgHome) || /[\x00-\x1f\x7f]/.test(opts.gnupgHome))
    throw new Error(`gnupgHome ${JSON.stringify(opts.gnupgHome)} must be an absolute path without control characters`);
  return `#!/usr/bin/perl
# reprepro's SignWith hook, written by debyard (server/src/repository/publish.ts) at every configure:
# edits here are overwritten. reprepro calls it with the new Release, the InRelease and the Release.gpg
# to write, before it renames any new index into place. It makes by-hash copies of every index the
# Release lists, adds Acquire-By-Hash, and signs. A failure leaves the published distribution as it was.
use strict;
use warnings;
use File::Path qw(make_path);

my $fingerprint = '${fingerprint}';
my $gnupghome = ${perlQuote(opts.gnupgHome)};
$ENV{LC_ALL} = 'C';
sub fail { print STDERR "debyard: $_[0]\\n"; exit 1; }

@ARGV == 3 or fail('usage: RELEASE INRELEASE RELEASE.GPG');
my ($release, $inrelease, $detached) = @ARGV;
(my $dir = $release) =~ s{/[^/]*$}{};
$dir = '.' if $dir eq $release;

open(my $in, '<', $release) or fail("cannot read $release: $!");
my @lines = <$in>;
close($in);
chomp(@lines);

# The SHA256 list: [hash, name, by-hash directory].
my (@wanted, $list);
for my $line (@lines) {
  if ($line =~ /^[^ ]/) { $list = $line eq 'SHA256:'; next; }
  my @f = split(' ', $line);
  next unless $list && @f == 3;
  my ($hash, $name) = ($f[0], $f[2]);
  fail("bad SHA256 '$hash' in $release") unless $hash =~ /^[0-9a-f]+$/;
  fail("unsafe index path '$name' in $release") if "/$name/" =~ m{/\\.\\.?/|^//};
  my $store = $name =~ m{^(.*)/[^/]*$} ? "$dir/$1/by-hash/SHA256" : "$dir/by-hash/SHA256";
  push(@wanted, [$hash, $name, $store]) unless -e "$store/$hash";
}

# Every candidate file hashed by one sha256sum.
my @candidates = grep { -f $_ } map { ("$dir/$_->[1].new", "$dir/$_->[1]") } @wanted;
my %sha;
if (@candidates) {
  open(my $sums, '-|', 'sha256sum', '--', @candidates) or fail("sha256sum: $!");
  while (my $l = <$sums>) { $sha{$2} = $1 if $l =~ /^([0-9a-f]{64})  (.*)$/; }
  close($sums) or fail('sha256sum failed');
}

for my $w (@wanted) {
  my ($hash, $name, $store) = @$w;
  my @files = grep { -f $_ } ("$dir/$name.new", "$dir/$name");
  next unless @files;  # a listed form reprepro does not write (the uncompressed Contents)
  my ($src) = grep { ($sha{$_} // '') eq $hash } @files;
  fail("$name does not have the SHA256 $hash the Release lists") unless defined $src;
  next if -e "$store/$hash";
  make_path($store);
  my $tmp = "$store/.$hash.tmp";
  unlink($tmp);
  link($src, $tmp) or system('cp', '--', $src, $tmp) == 0 or fail("cannot copy $src to $tmp");
  rename($tmp, "$store/$hash") or fail("cannot rename $tmp: $!");
}

# Acquire-By-Hash before the first list field; a snapshot's Release loses Valid-Until (never re-signed).
my $snapshot = "/$dir/" =~ m{/snapshots/};
my ($added, @out) = (0);
for my $line (@lines) {
  next if $line =~ /^Acquire-By-Hash:/;
  next if $snapshot && $line =~ /^Valid-Until:/;
  if (!$added && $line =~ /^[A-Za-z0-9-]+:$/) { push(@out, 'Acquire-By-Hash: yes'); $added = 1; }
  push(@out, $line);
}
push(@out, 'Acquire-By-Hash: yes') unless $added;
open(my $new, '>', "$release.by-hash") or fail("cannot write $release.by-hash: $!");
print $new join("\\n", @out), "\\n";
close($new) or fail("cannot write $release.by-hash: $!");
rename("$release.by-hash", $release) or fail("cannot rename $release.by-hash: $!");

my @gpg = ('gpg', '--homedir', $gnupghome, '--batch', '--no-tty', '--yes', '--local-user', "$fingerprint!", '--digest-algo', 'SHA512');
system(@gpg, '--clearsign', '--output', $inrelease, $release) == 0 or fail('signing InRelease failed');
system(@gpg, '--armor', '--detach-sign', '--output', $detached, $release) == 0 or fail('signing Release.gpg failed');
`;
}

/** One line of a Release file's SHA256 list. */
export interface ReleaseEntry {
  sha256: string;
  size: number;
  /** Relative to the distribution's directory, e.g. `main/binary-amd64/Packages.xz`. */
  path: string;
}

export interface ReleaseFile {
  paragraph: Paragraph;
  sha256: ReleaseEntry[];
}

/** Reads a Release file (not the clearsigned InRelease): its fields and its SHA256 list. */
export function parseRelease(text: string): ReleaseFile {
  const paragraph = parseSingleParagraph(text, { source: 'Release' });
  const sha256 = paragraph.lines('SHA256').map((line) => {
    const [hash, size, file, ...rest] = line.trim().split(/\s+/);
    if (!hash || !SHA256.test(hash) || !/^\d+$/.test(size ?? '') || !file || rest.length > 0)
      throw new Error(`Release: bad SHA256 line ${JSON.stringify(line)}`);
    return { sha256: hash, size: Number(size), path: file };
  });
  return { paragraph, sha256 };
}

/** Where apt fetches an index by its hash: `main/binary-amd64/by-hash/SHA256/<hash>`. */
export function byHashPath(entry: Pick<ReleaseEntry, 'path' | 'sha256'>): string {
  const dir = path.posix.dirname(entry.path);
  return path.posix.join(dir === '.' ? '' : dir, 'by-hash', 'SHA256', entry.sha256);
}

/** A Release file whose by-hash files are kept, newest first in the history. */
export interface Generation {
  /** SHA-256 of the Release file. */
  release: string;
  /** When the sweep first saw it published (ISO). */
  since: string;
  /** Its by-hash files, relative to the distribution's directory. */
  files: string[];
}

/**
 * The generations whose by-hash files stay: the newest `keepGenerations`, and every one replaced (its
 * successor published) less than `keepMs` before `now`. `history` is newest first.
 */
export function keptGenerations(
  history: Generation[],
  now: Date,
  keepGenerations = KEEP_GENERATIONS,
  keepMs = KEEP_MS,
): Generation[] {
  return history.filter((_g, i) => i < keepGenerations || now.getTime() - Date.parse(history[i - 1]!.since) < keepMs);
}

export interface SweepResult {
  /** Whether the Release was new to the history. */
  newGeneration: boolean;
  /** by-hash files deleted, relative to the distribution's directory. */
  removed: string[];
}

async function readHistory(file: string): Promise<Generation[]> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as { generations?: Generation[] };
    return Array.isArray(parsed.generations) ? parsed.generations : [];
  } catch (err) {
    // A missing or unreadable history only means fewer generations are known: the time rule still holds.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || err instanceof SyntaxError) return [];
    throw err;
  }
}

/** Every `by-hash/SHA256` directory below distDir, relative to it; snapshots/ (written once, never swept) left out. */
async function byHashDirs(distDir: string, relative = ''): Promise<string[]> {
  const entries = await readdir(path.join(distDir, relative), { withFileTypes: true }).catch(() => []);
  const found: string[] = [];
  for (const e of entries) {
    if (!e.isDirectory()) continue;
    const rel = relative ? `${relative}/${e.name}` : e.name;
    if (rel === 'snapshots') continue;
    if (e.name === 'by-hash') {
      if ((await lstat(path.join(distDir, rel, 'SHA256')).catch(() => null))?.isDirectory())
        found.push(`${rel}/SHA256`);
      continue;
    }
    found.push(...(await byHashDirs(distDir, rel)));
  }
  return found;
}

/**
 * After an export: records the distribution's Release as the newest generation (when it is new) and
 * deletes by-hash files that no kept generation lists. A file no generation in the history names (one
 * from an export the history never saw, say a reprepro run by hand) is kept until its inode is
 * `keepMs` old. Call it inside the repository's mutex.
 */
export async function sweepByHash(
  distDir: string,
  historyFile: string,
  now = new Date(),
  policy: { keepGenerations?: number; keepMs?: number } = {},
): Promise<SweepResult> {
  const keepMs = policy.keepMs ?? KEEP_MS;
  let text: Buffer;
  try {
    text = await readFile(path.join(distDir, 'Release'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { newGeneration: false, removed: [] };
    throw err;
  }
  const releaseHash = createHash('sha256').update(text).digest('hex');
  const history = await readHistory(historyFile);
  if (history[0]?.release === releaseHash) return { newGeneration: false, removed: [] };

  const files = parseRelease(text.toString('utf8')).sha256.map(byHashPath);
  const kept = keptGenerations(
    [{ release: releaseHash, since: now.toISOString(), files }, ...history],
    now,
    policy.keepGenerations,
    keepMs,
  );
  await mkdir(path.dirname(historyFile), { recursive: true });
  const tmp = `${historyFile}.tmp`;
  await writeFile(tmp, JSON.stringify({ generations: kept }, null, 1) + '\n');
  await rename(tmp, historyFile);

  const keep = new Set(kept.flatMap((g) => g.files));
  const removed: string[] = [];
  for (const dir of await byHashDirs(distDir)) {
    for (const name of await readdir(path.join(distDir, dir)).catch(() => [])) {
      const rel = `${dir}/${name}`;
      if (keep.has(rel)) continue;
      const info = await stat(path.join(distDir, rel)).catch(() => null);
      // ctime: a hard link made or dropped touches it, so it is no older than the file's last use.
      if (!info || now.getTime() - info.ctimeMs < keepMs) continue;
      await rm(path.join(distDir, rel), { force: true });
      removed.push(rel);
    }
  }
  return { newGeneration: true, removed };
}
