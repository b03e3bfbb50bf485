/**
 * The source of `<identity>-archive-keyring` (mini-buildd §5.4, §6.6), as plain data: a native
 * `Architecture: all` package (debhelper-compat 13) that installs
 * - the instance key as `/usr/share/keyrings/<identity>-archive-keyring.gpg`, the path every apt line
 *   of debyard names in Signed-By;
 * - one deb822 `.sources` file per published distribution (rollbacks included), and one with deb-src,
 *   under `/usr/share/<identity>-archive-keyring/sources/<codename>/<repo>_<suite>[-rollbackN][_src].sources`
 *   (mini-buildd's sources.list.d layout), with a README: like mini-buildd's, the package enables none
 *   of them, as which suites a machine follows is its administrator's choice;
 * - a dput-ng profile, `/etc/dput.d/profiles/debyard-<identity>.json`, as mini-buildd ships its own.
 *
 * Unlike mini-buildd the key does not go to /etc/apt/trusted.gpg.d: a key there is trusted for every
 * repository, while Signed-By limits it to debyard's.
 *
 * The content hash covers everything but the changelog, so a new version is made exactly when the
 * key, the URLs or the published distributions change.
 */
import { createHash } from 'node:crypto';
import type { PublishedDistribution } from '../repository/repository.kind.js';

export interface KeyringPackageInput {
  /** The daemon's identity: the package is `<identity>-archive-keyring`. */
  identity: string;
  /** Maintainer and changelog author, e.g. `debyard archive vm`. */
  maintainerName: string;
  maintainerEmail: string;
  /** The instance key, binary (as apt's Signed-By wants it). */
  key: Uint8Array;
  keyFingerprint: string;
  /** Where apt finds the repositories, e.g. `http://host:8066`. */
  httpUrl: string;
  /** FTP incoming, e.g. `ftp://host:8067/`; no dput profile without it. */
  ftpUrl: string | null;
  /** Every published distribution of every repository, by repository. */
  repositories: { identity: string; distributions: PublishedDistribution[] }[];
}

export interface KeyringChangelog {
  version: string;
  distribution: string;
  /** The options of the upload, as `key=value`. */
  options: string[];
  date: Date;
}

export interface SourceFile {
  /** Relative to the source tree. */
  path: string;
  content: Uint8Array | string;
  mode: number;
}

export function keyringPackageName(identity: string): string {
  return `${identity}-archive-keyring`;
}

/** Where the package puts the key: what Signed-By names. */
export function keyringFilePath(identity: string): string {
  return `/usr/share/keyrings/${keyringPackageName(identity)}.gpg`;
}

/** Where the package puts the `.sources` files. */
export function sourcesDir(identity: string): string {
  return `/usr/share/${keyringPackageName(identity)}/sources`;
}

/** The deb822 stanza of one distribution, for `types` `deb` or `deb-src`. */
export function sourcesStanza(
  input: Pick<KeyringPackageInput, 'identity' | 'httpUrl'>,
  repository: string,
  d: PublishedDistribution,
  type: 'deb' | 'deb-src',
): string {
  return [
    `# ${d.name}: repository ${repository} of debyard archive ${input.identity}`,
    `Types: ${type}`,
    `URIs: ${input.httpUrl.replace(/\/+$/, '')}/repositories/${repository}/`,
    `Suites: ${d.name}`,
    `Components: ${d.components.join(' ')}`,
    `Signed-By: ${keyringFilePath(input.identity)}`,
    '',
  ].join('\n');
}

/** The files of the package, without debian/changelog; sorted by path. */
export function keyringPackageFiles(input: KeyringPackageInput): SourceFile[] {
  const pkg = keyringPackageName(input.identity);
  const maintainer = `${input.maintainerName} <${input.maintainerEmail}>`;
  const files: SourceFile[] = [];
  const add = (path: string, content: Uint8Array | string, mode = 0o644) => files.push({ path, content, mode });

  add('keyring/archive-keyring.gpg', input.key);
  for (const repo of input.repositories)
    for (const d of repo.distributions) {
      const base = `sources/${d.codename}/${repo.identity}_${d.suite}${d.rollback === null ? '' : `-rollback${d.rollback}`}`;
      add(`${base}.sources`, sourcesStanza(input, repo.identity, d, 'deb'));
      add(`${base}_src.sources`, sourcesStanza(input, repo.identity, d, 'deb-src'));
    }
  add('README', readme(input));
  if (input.ftpUrl) add(`dput/debyard-${input.identity}.json`, dputProfile(input.ftpUrl));

  add(
    'debian/control',
    [
      `Source: ${pkg}`,
      'Section: misc',
      'Priority: optional',
      `Maintainer: ${maintainer}`,
      'Build-Depends: debhelper-compat (= 13)',
      'Standards-Version: 4.6.2',
      'Rules-Requires-Root: no',
      '',
      `Package: ${pkg}`,
      'Architecture: all',
      'Multi-Arch: foreign',
      'Depends: ${misc:Depends}',
      `Description: archive key and apt sources of debyard archive ${input.identity}`,
      ` The OpenPGP key that signs the repositories of debyard archive ${input.identity}`,
      ` (${input.httpUrl}), as ${keyringFilePath(input.identity)},`,
      ` a deb822 .sources file for each of its distributions that uses it`,
      ` (Signed-By), and a dput-ng profile for uploading. No source is enabled:`,
      ` copy the one you want from ${sourcesDir(input.identity)}/`,
      ' to /etc/apt/sources.list.d/.',
      '',
    ].join('\n'),
  );
  // dh_install cannot rename: the key gets its name under /usr/share/keyrings from the override.
  add(
    'debian/rules',
    [
      '#!/usr/bin/make -f',
      '%:',
      '\tdh $@',
      '',
      'override_dh_install:',
      '\tdh_install',
      `\tinstall -D -m 0644 keyring/archive-keyring.gpg debian/${pkg}/usr/share/keyrings/${pkg}.gpg`,
      '',
    ].join('\n'),
    0o755,
  );
  add('debian/source/format', '3.0 (native)\n');
  add(
    'debian/install',
    [
      `sources usr/share/${pkg}/`,
      `README usr/share/${pkg}/`,
      ...(input.ftpUrl ? [`dput/debyard-${input.identity}.json etc/dput.d/profiles/`] : []),
      '',
    ].join('\n'),
  );
  add(
    'debian/copyright',
    [
      'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/',
      `Upstream-Name: ${pkg}`,
      '',
      'Files: *',
      `Copyright: debyard archive ${input.identity}`,
      'License: public-domain',
      ' Generated by debyard: the public key and apt sources of one archive.',
      '',
    ].join('\n'),
  );
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** debian/changelog with one entry. */
export function keyringChangelog(input: KeyringPackageInput, entry: KeyringChangelog): string {
  const date = entry.date.toUTCString().replace(/GMT$/, '+0000');
  return [
    `${keyringPackageName(input.identity)} (${entry.version}) ${entry.distribution}; urgency=medium`,
    '',
    `  * Archive key ${input.keyFingerprint} and the apt sources of debyard archive ${input.identity}.`,
    ...entry.options.map((o) => `  * MINI_BUILDD_OPTION: ${o}`),
    '',
    ` -- ${input.maintainerName} <${input.maintainerEmail}>  ${date}`,
    '',
  ].join('\n');
}

/** SHA-256 over every file's path, mode and content: equal exactly when the package would be. */
export function contentHash(files: SourceFile[]): string {
  const hash = createHash('sha256');
  for (const f of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    hash.update(`${f.path}\0${f.mode.toString(8)}\0`);
    const bytes = typeof f.content === 'string' ? Buffer.from(f.content) : f.content;
    hash.update(`${bytes.length}\0`);
    hash.update(bytes);
  }
  return hash.digest('hex');
}

function dputProfile(ftpUrl: string): string {
  const u = new URL(ftpUrl);
  return (
    JSON.stringify(
      {
        method: 'ftp',
        fqdn: `${u.hostname}:${u.port || '21'}`,
        login: 'anonymous',
        incoming: '/',
      },
      null,
      2,
    ) + '\n'
  );
}

function readme(input: KeyringPackageInput): string {
  const pkg = keyringPackageName(input.identity);
  const example = input.repositories.flatMap((r) =>
    r.distributions.filter((d) => d.rollback === null).map((d) => ({ repo: r.identity, d })),
  )[0];
  const file = example
    ? `${example.d.codename}/${example.repo}_${example.d.suite}.sources`
    : '<codename>/<repo>_<suite>.sources';
  return [
    `${pkg}`,
    '',
    `The key that signs the APT repositories of debyard archive ${input.identity}`,
    `(${input.httpUrl}) is in ${keyringFilePath(input.identity)}`,
    `(fingerprint ${input.keyFingerprint}).`,
    '',
    'This package enables no repository. To follow one, copy its .sources file',
    'to /etc/apt/sources.list.d/, for example:',
    '',
    `  cp ${sourcesDir(input.identity)}/${file} /etc/apt/sources.list.d/`,
    '  apt-get update',
    '',
    'There is one file per codename, repository and suite (and rollback); the',
    'files ending in _src.sources are for deb-src. Each names the key above in',
    'Signed-By, so nothing else is needed, and the package keeps the key current.',
    ...(input.ftpUrl
      ? ['', `dput-ng: dput debyard-${input.identity} <your>_source.changes (/etc/dput.d/profiles/).`]
      : []),
    '',
  ].join('\n');
}
