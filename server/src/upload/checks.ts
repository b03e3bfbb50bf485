/**
 * The checks an uploaded `.changes` passes before anything is built (mini-buildd §3.2–3.3, dak's
 * upload checks). Each failure is an {@link UploadRejection} with a stable code and a message that
 * names the field, file, key or version and says what to do.
 *
 * Order, cheapest and most basic first: parse (fields, people, bugs) → file names → files (sizes,
 * checksums) → signature (and its age) → replay → distribution → version → .dsc (its files and
 * signature) → upload options → source tarballs (listed with tar, see source-tarballs.ts).
 *
 * The checks run on data ({@link UploadEnvironment}): the configuration as plain values plus the few
 * look-ups that touch the database, reprepro and the pool. {@link checkUpload} builds that from the
 * database; tests build it by hand.
 *
 * Signature decisions:
 * - The signature step needs the repository (its keys, whether it takes unsigned uploads), so the
 *   Distribution field is located first; whether that distribution is known, active and uploadable is
 *   reported afterwards, in the distribution step.
 * - A signed .changes is verified against every key debyard knows (instance key, uploader keys, all
 *   repositories' extra keys), so an upload by a known key to the wrong repository is told
 *   KEY_NOT_ALLOWED rather than "unknown key".
 * - Repositories that allow unauthenticated uploads (mini-buildd skips gpg there): an unsigned
 *   .changes, or one signed by a key debyard does not know, is accepted as unsigned. A signature that
 *   is cryptographically bad (tampered, revoked or expired key, weak algorithm) is still rejected:
 *   that is a file someone changed, not a missing credential. A known key is recorded as the signer.
 * - Age (dak's SignatureTimestampCheck): a signature made more than a year ago is refused; one dated
 *   more than a week ahead of this computer's clock is refused by openpgp.js (FUTURE_SIGNATURE), less
 *   is taken as clock skew.
 * - Replay (dak's check_replay, which remembers a signature "in all cases"): a verified .changes whose
 *   SHA-256 equals an earlier upload's that got past the signature check, whatever became of it; such
 *   rejections carry the signer ({@link UploadRejection.signedBy}) and the upload records it. Uploads
 *   rejected before or at the signature (a key not yet allowed, say) do not count, so the same file
 *   can be sent again once the key is granted. Unsigned uploads have no replay check (nothing proves
 *   who sent them; version checks still apply).
 * - The .dsc: when clearsigned, it must verify and be signed by the key that signed the .changes
 *   (debsign signs both); an unsigned .dsc is fine (the signed .changes holds its checksums).
 *   Repositories that allow unauthenticated uploads skip this, as they skip the .changes signature.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { EntityManager } from '@mikro-orm/postgresql';
import type * as openpgp from 'openpgp';
import { stripClearsign } from '../build/dsc.js';
import { Deb822Error, parseSingleParagraph, type Paragraph } from '../debian/deb822.js';
import { expandVersionRule } from '../layout/layout.kind.js';
import { ConfigStatus } from '../lifecycle/lifecycle.js';
import type { Logger } from '../log.js';
import type { InstanceKeyStore } from '../pgp/instance-key.js';
import { clearsignedIssuers, readArmoredKeys, SignatureError, verifyClearsigned } from '../pgp/verify.js';
import { repreproFor } from '../repository/repository.kind.js';
import { Repository } from '../repository/repository.entity.js';
import { Uploader } from '../uploader/uploader.entity.js';
import { checkFileName, containedPath, UnsafePathError } from '../util/paths.js';
import { compareVersions, parseVersion, withoutEpoch } from './debversion.js';
import { parseUploadOptions, type UploadOptions } from './options.js';
import { checkSourceTarballs, isSourceTarball, type TarballLimits } from './source-tarballs.js';
import { Upload, UploadState } from './upload.entity.js';

export type { ArchUploadOptions, UploadOptions } from './options.js';
export { parseUploadOptions } from './options.js';
export { DEFAULT_TARBALL_LIMITS, type TarballLimits } from './source-tarballs.js';

export type RejectCode =
  | 'CHANGES_INVALID'
  | 'FIELD_MISSING'
  | 'NOT_SOURCE'
  | 'FILE_NAME'
  | 'FILE_MISSING'
  | 'FILE_SIZE'
  | 'CHECKSUM_MISMATCH'
  | 'SIGNATURE_MISSING'
  | 'SIGNATURE_INVALID'
  | 'KEY_NOT_ALLOWED'
  | 'REPLAY'
  | 'DISTRIBUTION_UNKNOWN'
  | 'DISTRIBUTION_INACTIVE'
  | 'SUITE_NOT_UPLOADABLE'
  | 'VERSION_RULE'
  | 'VERSION_EXISTS'
  | 'VERSION_LOWER'
  | 'DSC_INVALID'
  | 'DSC_FILE_MISSING'
  /** The .dsc is clearsigned but does not verify, or not by the key that signed the .changes. */
  | 'DSC_SIGNATURE'
  /** A source tarball tar cannot list, or with members dpkg-source must not unpack (see source-tarballs.ts). */
  | 'SOURCE_UNSAFE'
  | 'OPTION_UNKNOWN'
  | 'OPTION_DUPLICATE'
  | 'OPTION_INVALID'
  /** Raised by the pipeline: none of the target's architectures builds the .dsc's. */
  | 'NO_ARCHITECTURE';

/** Why an upload was refused: `code` for programs, the message for the person who uploaded. */
export class UploadRejection extends Error {
  override readonly name = 'UploadRejection';
  /**
   * The key that signed the .changes, when the rejection came after its signature was verified and
   * accepted: such an upload counts for replays, and its record names the signer.
   */
  signedBy?: { fingerprint: string; owner: string };
  constructor(
    readonly code: RejectCode,
    message: string,
  ) {
    super(message);
  }
}

export interface CheckedFile {
  name: string;
  size: number;
  sha256: string;
}

export interface CheckedUpload {
  source: string;
  version: string;
  /** The Distribution field as uploaded (maybe a meta-distribution). */
  distribution: string;
  /** `<codename>-<repo>-<suite>`. */
  targetDistribution: string;
  /** Repository identity. */
  repository: string;
  codename: string;
  suite: string;
  experimental: boolean;
  changedBy: string;
  signedBy: { fingerprint: string; owner: string } | null;
  /** Absolute path of the .dsc in the spool directory. */
  dsc: string;
  /** The .dsc's Architecture field, e.g. `["any", "all"]`. */
  dscArchitectures: string[];
  /** Every file the .changes lists, as checked in the spool directory. */
  files: CheckedFile[];
  /** Files of the .dsc that were not uploaded but are in the pool (e.g. an orig tarball uploaded before). */
  fromPool: { name: string; path: string }[];
  options: UploadOptions;
}

// ---------------------------------------------------------------------------------------------
// The configuration the checks see, as data.

/** A key that may sign uploads. The same fingerprint may come in several entries (e.g. uploader and extra key). */
export interface UploadKey {
  fingerprint: string;
  /** Who it is, for messages and the upload record: a user name, "instance key", "extra key of …". */
  owner: string;
  key: openpgp.PublicKey;
  /** Repository identities it may upload to; `'all'` for the instance key. */
  repositories: string[] | 'all';
  /** Null when it may be used; otherwise why not (e.g. the uploader is not active). */
  inactive: string | null;
}

export interface SuiteConfig {
  name: string;
  uploadable: boolean;
  experimental: boolean;
}

export interface DistributionConfig {
  codename: string;
  /** The base source's code version (`12` for bookworm), for %CODEVERSION%. */
  codeversion: string;
  /** Null when it and all its sources are active; otherwise why not. */
  inactive: string | null;
}

export interface RepositoryConfig {
  identity: string;
  /** Null when active; otherwise why not. */
  inactive: string | null;
  allowUnauthenticatedUploads: boolean;
  /** The layout's meta-distributions: `<meta>` → `<codename>-<suite>`. */
  metaDistributions: Record<string, string>;
  suites: SuiteConfig[];
  distributions: DistributionConfig[];
  /** The layout's rules, with %IDENTITY% and %CODEVERSION% not yet filled in. */
  mandatoryVersionRegex: string;
  experimentalMandatoryVersionRegex: string;
  defaultVersion: string;
  experimentalDefaultVersion: string;
}

export interface UploadEnvironment {
  repositories: RepositoryConfig[];
  keys: UploadKey[];
  /** Uploads of a .changes with this SHA-256 (the one being checked included); `signedBy` as recorded. */
  uploadsWithSha256(
    sha256: string,
  ): Promise<{ id: number; state: UploadState; receivedAt: Date; signedBy: string | null }[]>;
  /** What the repository holds of `source` (reprepro ls), in every distribution including rollbacks. */
  installed(repository: string, source: string): Promise<{ version: string; distribution: string }[]>;
  /** Absolute path of `name` in the repository's pool for `source`, or null if it is not there. */
  poolFile(repository: string, source: string, name: string): Promise<string | null>;
}

export interface SpooledUpload {
  id: number;
  spoolDir: string;
  changesName: string;
  changesSha256: string;
}

// ---------------------------------------------------------------------------------------------

const BEGIN_SIGNED = '-----BEGIN PGP SIGNED MESSAGE-----';
const MAX_CHANGES_BYTES = 1024 * 1024;
const DAY_MS = 24 * 3600 * 1000;
/** dak's SignatureTimestampCheck: older signatures are refused. */
const MAX_SIGNATURE_AGE_DAYS = 365;
/** dak's tolerance for a signing computer's clock that is ahead; beyond it, FUTURE_SIGNATURE. */
const FUTURE_SIGNATURE_TOLERANCE_DAYS = 7;
/** `Name <address@host>` as dpkg writes Maintainer and Changed-By (RFC 822's name-addr, simplified). */
const PERSON = /^([^<>\s](?:[^<>]*[^<>\s])?)\s*<([^<>@\s]+@[^<>@\s]+)>$/;
const CLOSES = /^[0-9]+(?: +[0-9]+)*$/;
const SOURCE_NAME = /^[a-z0-9][a-z0-9+.-]+$/;
const DISTRIBUTION_NAME = /^(.+)-([a-z0-9]+)-([a-z]+)(?:-rollback(\d+))?$/;
const BINARY_FILE = /\.(?:deb|udeb|ddeb)$/;
const MANDATORY_FIELDS = [
  'Format',
  'Date',
  'Source',
  'Architecture',
  'Version',
  'Distribution',
  'Maintainer',
  'Changed-By',
  'Changes',
  'Files',
  'Checksums-Sha256',
];

interface Listed {
  name: string;
  size: number;
  sha256: string;
  md5?: string;
}

interface Parsed {
  paragraph: Paragraph;
  signed: string | null;
  source: string;
  version: string;
  distribution: string;
  changedBy: string;
  files: Listed[];
  dscName: string;
}

/** A distribution name resolved against the configuration. */
export interface Located {
  repo: RepositoryConfig;
  codename: string;
  suite: string;
  rollback: number | null;
  name: string;
}

export interface CheckOptions {
  logger?: Logger;
  /** Caps for listing the source tarballs; {@link DEFAULT_TARBALL_LIMITS} if absent. */
  tarballLimits?: TarballLimits;
}

/** Checks a spooled upload against `env`; returns what the pipeline needs, or throws {@link UploadRejection}. */
export async function checkSpooledUpload(
  env: UploadEnvironment,
  upload: SpooledUpload,
  opts: CheckOptions = {},
): Promise<CheckedUpload> {
  const parsed = await parseChanges(upload);
  const files = await checkFiles(upload, parsed);
  const located = locate(env.repositories, parsed.distribution);
  const signedBy = await checkSignature(env, upload, parsed, located instanceof UploadRejection ? null : located.repo);
  try {
    return await checkSigned(env, upload, parsed, files, located, signedBy, opts);
  } catch (err) {
    if (err instanceof UploadRejection && signedBy) err.signedBy ??= signedBy;
    throw err;
  }
}

/** The checks after the signature step. */
async function checkSigned(
  env: UploadEnvironment,
  upload: SpooledUpload,
  parsed: Parsed,
  files: Listed[],
  located: Located | UploadRejection,
  signedBy: { fingerprint: string; owner: string } | null,
  opts: CheckOptions,
): Promise<CheckedUpload> {
  if (signedBy) await checkReplay(env, upload);
  if (located instanceof UploadRejection) throw located;
  const target = checkDistribution(located);
  const suite = target.repo.suites.find((s) => s.name === target.suite)!;
  await checkVersion(env, parsed, target, suite.experimental);
  const dsc = await checkDsc(env, upload, parsed, target.repo, files, signedBy);
  const options = parseUploadOptions(parsed.paragraph.get('Changes') ?? '');
  checkAutoPorts(env, options);
  await checkSourceTarballs(
    dsc.uploaded.filter((f) => isSourceTarball(f.name)),
    opts.tarballLimits,
  );
  opts.logger?.debug({ upload: upload.id, target: target.name, signedBy }, 'upload passed its checks');
  return {
    source: parsed.source,
    version: parsed.version,
    distribution: parsed.distribution,
    targetDistribution: target.name,
    repository: target.repo.identity,
    codename: target.codename,
    suite: target.suite,
    experimental: suite.experimental,
    changedBy: parsed.changedBy,
    signedBy,
    dsc: dsc.path,
    dscArchitectures: dsc.architectures,
    files: files.map(({ name, size, sha256 }) => ({ name, size, sha256 })),
    fromPool: dsc.fromPool,
    options,
  };
}

// ---------------------------------------------------------------------------------------------
// 1. parse

async function parseChanges(upload: SpooledUpload): Promise<Parsed> {
  const name = upload.changesName;
  const invalid = (why: string) => new UploadRejection('CHANGES_INVALID', `${name}: ${why}`);
  nameOk(name, 'the .changes');
  if (!name.endsWith('.changes')) throw new UploadRejection('FILE_NAME', `"${name}" does not end in .changes`);
  let bytes: Buffer;
  try {
    const file = containedPath(upload.spoolDir, name);
    const st = await fsp.lstat(file);
    if (!st.isFile()) throw invalid('not a regular file');
    if (st.size > MAX_CHANGES_BYTES) throw invalid(`larger than ${MAX_CHANGES_BYTES} bytes; that is no .changes`);
    bytes = await fsp.readFile(file);
  } catch (err) {
    if (err instanceof UploadRejection) throw err;
    throw new UploadRejection('FILE_MISSING', `${name} is not in the spool directory: ${(err as Error).message}`);
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== upload.changesSha256.toLowerCase())
    throw invalid('it changed after it was received (SHA-256 differs); upload it again');

  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw invalid('not valid UTF-8');
  }
  // Before the armor is taken apart: a CR would otherwise surface as a broken signature block.
  const cr = text.indexOf('\r');
  if (cr >= 0)
    throw invalid(
      `line ${text.slice(0, cr).split('\n').length} holds a carriage return (CRLF or CR line endings): a .changes has ` +
        'LF line endings only; it was probably converted in transit: upload the file as debsign wrote it',
    );
  let signed: string | null = null;
  let body = text;
  if (text.startsWith(BEGIN_SIGNED)) {
    signed = text;
    try {
      body = stripClearsign(text);
    } catch (err) {
      throw invalid((err as Error).message);
    }
  } else if (text.includes('-----BEGIN PGP')) {
    throw invalid('there is text before the signed part; upload the file as debsign wrote it');
  }
  const paragraph = parseParagraph(body, name);

  for (const field of MANDATORY_FIELDS) {
    if (paragraph.get(field)?.trim()) continue;
    throw new UploadRejection(
      'FIELD_MISSING',
      field === 'Changed-By'
        ? `${name}: Changed-By is missing: was the changelog entry finalised (dch -r)?`
        : `${name}: ${field} is missing: build the .changes with dpkg-buildpackage -S (or dpkg-genchanges -S)`,
    );
  }
  const source = paragraph.get('Source')!.trim();
  const version = paragraph.get('Version')!.trim();
  const distribution = paragraph.get('Distribution')!.trim();
  const architectures = paragraph.get('Architecture')!.trim().split(/\s+/);
  checkPeopleAndBugs(paragraph, name);

  if (!SOURCE_NAME.test(source))
    throw invalid(`Source "${source}" is not a source package name (lower-case letters, digits, +.-)`);
  const v = parseVersion(version);
  if ('error' in v) throw invalid(`Version "${version}" is not a Debian version: ${v.error}`);
  if (/\s/.test(distribution))
    throw invalid(`Distribution "${distribution}" names several distributions; upload to one at a time`);
  if (architectures.length !== 1 || architectures[0] !== 'source')
    throw new UploadRejection(
      'NOT_SOURCE',
      `${name} has Architecture "${architectures.join(' ')}": debyard takes source-only uploads and builds the ` +
        'binaries itself; build it with dpkg-buildpackage -S',
    );

  const files = listedFiles(paragraph, name);
  const binary = files.find((f) => BINARY_FILE.test(f.name));
  if (binary)
    throw new UploadRejection(
      'NOT_SOURCE',
      `${name} lists the binary package ${binary.name}: debyard takes source-only uploads (dpkg-buildpackage -S)`,
    );
  const dscs = files.filter((f) => f.name.endsWith('.dsc'));
  if (dscs.length !== 1)
    throw new UploadRejection(
      'NOT_SOURCE',
      `${name} lists ${dscs.length === 0 ? 'no .dsc' : `${dscs.length} .dsc files`}: a source upload has exactly one`,
    );

  const expected = `${source}_${withoutEpoch(version)}_`;
  if (!name.startsWith(expected))
    throw new UploadRejection(
      'FILE_NAME',
      `"${name}" does not match Source and Version: expected ${expected}….changes`,
    );

  return {
    paragraph,
    signed,
    source,
    version,
    distribution,
    changedBy: paragraph.get('Changed-By')!.trim(),
    files,
    dscName: dscs[0]!.name,
  };
}

/** Maintainer and Changed-By as `Name <address@host>`, Closes as bug numbers (dpkg's formats). */
function checkPeopleAndBugs(paragraph: Paragraph, name: string): void {
  const invalid = (why: string) => new UploadRejection('CHANGES_INVALID', `${name}: ${why}`);
  const where: Record<string, string> = {
    Maintainer: 'the Maintainer field of debian/control',
    'Changed-By': 'the trailer line ( -- Name <address@host>  date) of the top debian/changelog entry',
  };
  for (const field of ['Maintainer', 'Changed-By']) {
    const value = paragraph.get(field)!.trim();
    if (value.includes('\n') || !PERSON.test(value))
      throw invalid(
        `${field} ${JSON.stringify(value)} is not "Name <address@host>": fix ${where[field]} and rebuild the source package`,
      );
  }
  const closes = paragraph.get('Closes');
  if (closes !== undefined && !CLOSES.test(closes.trim()))
    throw invalid(
      `Closes ${JSON.stringify(closes.trim())} is not a list of bug numbers separated by spaces: ` +
        'write "Closes: #123, #456" in debian/changelog and rebuild the .changes',
    );
}

function parseParagraph(text: string, name: string): Paragraph {
  try {
    return parseSingleParagraph(text, { source: name });
  } catch (err) {
    if (err instanceof Deb822Error) throw new UploadRejection('CHANGES_INVALID', err.message);
    throw err;
  }
}

function nameOk(name: string, what: string): void {
  try {
    checkFileName(name);
  } catch (err) {
    if (err instanceof UnsafePathError) throw new UploadRejection('FILE_NAME', `${what}: ${err.message}`);
    throw err;
  }
}

/** `Checksums-Sha256` (and `Files` for the .changes) as one list; both must name the same files. */
function listedFiles(paragraph: Paragraph, name: string, withMd5 = true): Listed[] {
  const invalid = (why: string) => new UploadRejection('CHANGES_INVALID', `${name}: ${why}`);
  const byName = new Map<string, Listed>();
  for (const line of paragraph.lines('Checksums-Sha256')) {
    const m = /^\s*([0-9a-fA-F]{64})\s+(\d+)\s+(\S+)\s*$/.exec(line);
    if (!m) throw invalid(`malformed Checksums-Sha256 line "${line.trim()}"`);
    const file = { sha256: m[1]!.toLowerCase(), size: Number(m[2]), name: m[3]! };
    nameOk(file.name, `${name} lists an unsafe file name`);
    if (byName.has(file.name)) throw invalid(`Checksums-Sha256 lists ${file.name} twice`);
    byName.set(file.name, file);
  }
  if (byName.size === 0) throw invalid('Checksums-Sha256 lists no files');
  if (!withMd5) return [...byName.values()];

  const inFiles = new Set<string>();
  for (const line of paragraph.lines('Files')) {
    const m = /^\s*([0-9a-fA-F]{32})\s+(\d+)\s+\S+\s+\S+\s+(\S+)\s*$/.exec(line);
    if (!m) throw invalid(`malformed Files line "${line.trim()}" (expected md5 size section priority name)`);
    const [, md5, size, file] = m;
    nameOk(file!, `${name} lists an unsafe file name`);
    if (inFiles.has(file!)) throw invalid(`Files lists ${file} twice`);
    inFiles.add(file!);
    const listed = byName.get(file!);
    if (!listed) throw invalid(`${file} is in Files but not in Checksums-Sha256`);
    if (listed.size !== Number(size))
      throw invalid(`Files and Checksums-Sha256 give different sizes for ${file} (${size} and ${listed.size})`);
    listed.md5 = md5!.toLowerCase();
  }
  const notInFiles = [...byName.keys()].find((f) => !inFiles.has(f));
  if (notInFiles) throw invalid(`${notInFiles} is in Checksums-Sha256 but not in Files`);
  return [...byName.values()];
}

// ---------------------------------------------------------------------------------------------
// 2. files

async function checkFiles(upload: SpooledUpload, parsed: Parsed): Promise<Listed[]> {
  for (const file of parsed.files) {
    const where = containedPath(upload.spoolDir, file.name);
    let st: fs.Stats;
    try {
      st = await fsp.lstat(where);
    } catch {
      throw new UploadRejection(
        'FILE_MISSING',
        `${file.name} is listed in ${upload.changesName} but was not uploaded: upload the .changes and all its ` +
          'files together (dput does)',
      );
    }
    if (!st.isFile())
      throw new UploadRejection('FILE_MISSING', `${file.name} is not a regular file: upload the file itself`);
    if (st.size !== file.size)
      throw new UploadRejection(
        'FILE_SIZE',
        `${file.name} has ${st.size} bytes, but ${upload.changesName} says ${file.size}: upload it again (was the transfer cut short?)`,
      );
    const { sha256, md5 } = await hashFile(where);
    if (sha256 !== file.sha256 || (file.md5 !== undefined && md5 !== file.md5))
      throw new UploadRejection(
        'CHECKSUM_MISMATCH',
        sha256 !== file.sha256
          ? `${file.name} has SHA-256 ${sha256}, but ${upload.changesName} says ${file.sha256}: upload it again, or rebuild the .changes`
          : `${file.name} has MD5 ${md5}, but ${upload.changesName} says ${file.md5}: upload it again, or rebuild the .changes`,
      );
  }
  return parsed.files;
}

async function hashFile(file: string): Promise<{ sha256: string; md5: string }> {
  const sha256 = createHash('sha256');
  const md5 = createHash('md5');
  for await (const chunk of fs.createReadStream(file)) {
    sha256.update(chunk as Buffer);
    md5.update(chunk as Buffer);
  }
  return { sha256: sha256.digest('hex'), md5: md5.digest('hex') };
}

// ---------------------------------------------------------------------------------------------
// 3. signature and replay

async function checkSignature(
  env: UploadEnvironment,
  upload: SpooledUpload,
  parsed: Parsed,
  repo: RepositoryConfig | null,
): Promise<{ fingerprint: string; owner: string } | null> {
  const open = repo?.allowUnauthenticatedUploads ?? false;
  if (parsed.signed === null) {
    if (open) return null;
    throw new UploadRejection(
      'SIGNATURE_MISSING',
      `${upload.changesName} is not signed${repo ? ` and repository ${repo.identity} takes only signed uploads` : ''}: ` +
        `sign it with "debsign -k <your key id> ${upload.changesName}"`,
    );
  }
  const now = new Date();
  let verified;
  try {
    verified = await verifyClearsigned(parsed.signed, uniqueKeys(env), {
      source: upload.changesName,
      date: new Date(now.getTime() + FUTURE_SIGNATURE_TOLERANCE_DAYS * DAY_MS),
    });
  } catch (err) {
    if (!(err instanceof SignatureError)) throw err;
    if (open && (err.code === 'UNKNOWN_KEY' || err.code === 'NO_KEYS')) return null;
    throw new UploadRejection('SIGNATURE_INVALID', `${err.message}${signatureHint(err, now)}`);
  }
  const signed = parseParagraph(verified.text, upload.changesName);
  if (JSON.stringify(signed.toObject()) !== JSON.stringify(parsed.paragraph.toObject()))
    throw new UploadRejection(
      'SIGNATURE_INVALID',
      `${upload.changesName}: the signed text differs from the text around it; sign it again with debsign`,
    );
  const ageDays = Math.floor((now.getTime() - verified.signedAt.getTime()) / DAY_MS);
  if (ageDays > MAX_SIGNATURE_AGE_DAYS)
    throw new UploadRejection(
      'SIGNATURE_INVALID',
      `${upload.changesName} was signed on ${verified.signedAt.toISOString()}, ${ageDays} days ago: signatures older ` +
        `than a year (${MAX_SIGNATURE_AGE_DAYS} days) are not accepted; sign it again with debsign`,
    );

  const fingerprint = verified.signer.fingerprint;
  const entries = env.keys.filter((k) => k.fingerprint === fingerprint);
  const usable = entries.filter(
    (k) => k.inactive === null && (k.repositories === 'all' || (repo && k.repositories.includes(repo.identity))),
  );
  const owner = (usable[0] ?? entries[0])?.owner ?? verified.signer.userId ?? fingerprint;
  if (repo && !open && usable.length === 0) {
    const reasons = entries.map((k) =>
      k.inactive !== null
        ? `${k.owner}: ${k.inactive}`
        : `${k.owner} may upload to ${k.repositories === 'all' ? 'every repository' : k.repositories.join(', ') || 'no repository'}`,
    );
    throw new UploadRejection(
      'KEY_NOT_ALLOWED',
      `key ${fingerprint} may not upload to repository ${repo.identity} (${reasons.join('; ')}): ask an administrator ` +
        'to activate the key and grant it this repository',
    );
  }
  return { fingerprint, owner };
}

function uniqueKeys(env: UploadEnvironment): openpgp.PublicKey[] {
  return [...new Map(env.keys.map((k) => [k.fingerprint, k.key])).values()];
}

/** What to do about a signature that did not verify; appended to its message. */
function signatureHint(err: SignatureError, now: Date): string {
  switch (err.code) {
    case 'UNKNOWN_KEY':
      return (
        ': the key is not known here; add it to your uploader profile and have it activated, or ask for it to be ' +
        "added to the repository's extra uploader keys"
      );
    case 'BAD_SIGNATURE':
      return ': the file was changed after it was signed; sign it again';
    case 'FUTURE_SIGNATURE':
      return (
        `: it says it was signed ${err.signedAt ? `at ${err.signedAt.toISOString()}` : 'in the future'}, more than ` +
        `${FUTURE_SIGNATURE_TOLERANCE_DAYS} days after the time here (${now.toISOString()}); set the clock of the ` +
        'computer that signed it right and sign it again'
      );
    case 'WEAK_ALGORITHM':
      return (
        ': sign it again with a strong key and digest (Ed25519, or RSA of at least 2048 bits, with SHA-256 or ' +
        'better; see digest-algo and personal-digest-preferences in gpg.conf)'
      );
    default:
      return '';
  }
}

async function checkReplay(env: UploadEnvironment, upload: SpooledUpload): Promise<void> {
  // Only uploads received before this one: of two copies checked at once, the first one wins.
  const earlier = (await env.uploadsWithSha256(upload.changesSha256.toLowerCase())).find(
    (u) => u.id < upload.id && (u.state !== UploadState.REJECTED || u.signedBy !== null),
  );
  if (earlier)
    throw new UploadRejection(
      'REPLAY',
      `${upload.changesName} was already uploaded as upload ${earlier.id} on ${earlier.receivedAt.toISOString()} ` +
        `(this signed .changes has been seen before${earlier.state === UploadState.REJECTED ? ', and was rejected' : ''}): ` +
        'sign it again (debsign) to send it once more, or build and sign a new upload with a new version',
    );
}

// ---------------------------------------------------------------------------------------------
// 4. distribution

/** Maps a Distribution field to a repository, codename and suite, or says why it cannot. */
export function locate(repos: RepositoryConfig[], distribution: string): Located | UploadRejection {
  const unknown = (why: string) => new UploadRejection('DISTRIBUTION_UNKNOWN', why);
  const metas = repos.filter((r) => Object.hasOwn(r.metaDistributions, distribution));
  if (metas.length > 1)
    return unknown(
      `meta-distribution ${distribution} is defined by several repositories (${metas.map((r) => r.identity).join(', ')}): ` +
        'upload to <codename>-<repo>-<suite> instead',
    );
  let name = distribution;
  if (metas.length === 1) {
    const repo = metas[0]!;
    const mapped = repo.metaDistributions[distribution]!;
    const dash = mapped.lastIndexOf('-');
    name = `${mapped.slice(0, dash)}-${repo.identity}-${mapped.slice(dash + 1)}`;
  }
  const m = DISTRIBUTION_NAME.exec(name);
  if (!m) {
    const known = repos.flatMap((r) => Object.keys(r.metaDistributions));
    return unknown(
      `"${distribution}" is not a distribution: use <codename>-<repo>-<suite>, e.g. bookworm-test-unstable` +
        (known.length ? `, or a meta-distribution (${known.sort().join(', ')})` : ''),
    );
  }
  const [, codename, identity, suite, rollback] = m;
  const repo = repos.find((r) => r.identity === identity);
  if (!repo)
    return unknown(
      `${name}: there is no repository "${identity}" (repositories: ${repos.map((r) => r.identity).join(', ') || 'none'})`,
    );
  if (!repo.distributions.some((d) => d.codename === codename))
    return unknown(
      `${name}: repository ${identity} does not build for ${codename} (it builds for ${repo.distributions.map((d) => d.codename).join(', ') || 'nothing'})`,
    );
  if (!repo.suites.some((s) => s.name === suite))
    return unknown(
      `${name}: repository ${identity} has no suite ${suite} (suites: ${repo.suites.map((s) => s.name).join(', ')})`,
    );
  return { repo, codename: codename!, suite: suite!, rollback: rollback === undefined ? null : Number(rollback), name };
}

/** Throws {@link UploadRejection} unless `located` takes uploads: active, not a rollback, an uploadable suite. */
export function checkDistribution(located: Located): Located {
  const { repo, name } = located;
  if (repo.inactive !== null)
    throw new UploadRejection('DISTRIBUTION_INACTIVE', `${name}: repository ${repo.identity} ${repo.inactive}`);
  const dist = repo.distributions.find((d) => d.codename === located.codename)!;
  if (dist.inactive !== null)
    throw new UploadRejection('DISTRIBUTION_INACTIVE', `${name}: distribution ${dist.codename} ${dist.inactive}`);
  if (located.rollback !== null)
    throw new UploadRejection(
      'SUITE_NOT_UPLOADABLE',
      `${name} is a rollback distribution and takes no uploads: upload to ${located.codename}-${repo.identity}-${located.suite}`,
    );
  const suite = repo.suites.find((s) => s.name === located.suite)!;
  if (!suite.uploadable) {
    const uploadable = repo.suites
      .filter((s) => s.uploadable)
      .map((s) => `${located.codename}-${repo.identity}-${s.name}`);
    throw new UploadRejection(
      'SUITE_NOT_UPLOADABLE',
      `${name} takes no uploads (packages reach ${located.suite} by migration): upload to ${uploadable.join(' or ') || 'an uploadable suite'}`,
    );
  }
  return located;
}

// ---------------------------------------------------------------------------------------------
// 5. version

/**
 * The version rules for `version` of `source` into `target`: the suite's mandatory pattern, not in any
 * distribution of the repository yet (rollbacks aside), not lower than what the target has.
 */
export async function checkVersion(
  env: Pick<UploadEnvironment, 'installed'>,
  parsed: { source: string; version: string },
  target: Located,
  experimental: boolean,
): Promise<void> {
  const { repo, name } = target;
  const { version, source } = parsed;
  const dist = repo.distributions.find((d) => d.codename === target.codename)!;
  const rule = expandVersionRule(
    experimental ? repo.experimentalMandatoryVersionRegex : repo.mandatoryVersionRegex,
    repo.identity,
    dist.codeversion,
  );
  let matches: boolean;
  try {
    matches = new RegExp(rule).test(version);
  } catch (err) {
    throw new Error(
      `the version rule of repository ${repo.identity} is not a valid pattern: ${(err as Error).message}`,
    );
  }
  if (!matches) {
    const suffix = expandVersionRule(
      experimental ? repo.experimentalDefaultVersion : repo.defaultVersion,
      repo.identity,
      dist.codeversion,
    );
    throw new UploadRejection(
      'VERSION_RULE',
      `version ${version} does not match the rule for ${name}: ${rule} (e.g. ${version}${suffix}; set it in debian/changelog)`,
    );
  }
  const installed = await env.installed(repo.identity, source);
  const same = installed.find(
    (r) => !/-rollback\d+$/.test(r.distribution) && compareVersions(r.version, version) === 0,
  );
  if (same)
    throw new UploadRejection(
      'VERSION_EXISTS',
      `${source} ${version} is already in ${same.distribution}: raise the version (e.g. dch -i) and upload again`,
    );
  const higher = installed.find((r) => r.distribution === name && compareVersions(version, r.version) < 0);
  if (higher)
    throw new UploadRejection(
      'VERSION_LOWER',
      `${source} ${version} is lower than ${higher.version}, which is in ${name}: upload a version greater than ${higher.version}`,
    );
}

/**
 * Every `auto-ports` distribution must take uploads now, so that a typo is told at once rather than
 * after the build (a port can still fail later, e.g. when its version is taken: PORT_FAILED).
 */
function checkAutoPorts(env: UploadEnvironment, options: UploadOptions): void {
  for (const distribution of options.autoPorts ?? []) {
    const located = locate(env.repositories, distribution);
    try {
      if (located instanceof UploadRejection) throw located;
      checkDistribution(located);
    } catch (err) {
      if (!(err instanceof UploadRejection)) throw err;
      throw new UploadRejection(
        'OPTION_INVALID',
        `upload option auto-ports: cannot port to ${distribution}: ${err.message}`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// 6. the .dsc and its files

async function checkDsc(
  env: UploadEnvironment,
  upload: SpooledUpload,
  parsed: Parsed,
  repo: RepositoryConfig,
  uploaded: Listed[],
  signedBy: { fingerprint: string; owner: string } | null,
): Promise<{
  path: string;
  architectures: string[];
  /** Files of the .dsc that came with the upload, in the spool directory. */
  uploaded: { name: string; path: string }[];
  fromPool: { name: string; path: string }[];
}> {
  const dscName = parsed.dscName;
  const dscPath = containedPath(upload.spoolDir, dscName);
  const invalid = (why: string) => new UploadRejection('DSC_INVALID', `${dscName}: ${why}`);
  let paragraph: Paragraph;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(await fsp.readFile(dscPath));
    if (text.includes('\r')) throw new Error('it has CR line endings; a .dsc has LF line endings only');
    if (!text.startsWith(BEGIN_SIGNED) && text.includes('-----BEGIN PGP'))
      throw new Error('text before the signed part');
    paragraph = parseSingleParagraph(stripClearsign(text), { source: dscName });
  } catch (err) {
    throw invalid(err instanceof Deb822Error ? err.message : `not a valid .dsc: ${(err as Error).message}`);
  }
  if (text.startsWith(BEGIN_SIGNED) && !repo.allowUnauthenticatedUploads && signedBy)
    await checkDscSignature(env, text, paragraph, dscName, upload.changesName, signedBy.fingerprint);
  for (const field of ['Format', 'Source', 'Version', 'Architecture', 'Checksums-Sha256'])
    if (!paragraph.get(field)?.trim()) throw invalid(`${field} is missing`);
  if (paragraph.get('Source')!.trim() !== parsed.source)
    throw invalid(`Source is ${paragraph.get('Source')!.trim()}, but the .changes says ${parsed.source}`);
  if (paragraph.get('Version')!.trim() !== parsed.version)
    throw invalid(`Version is ${paragraph.get('Version')!.trim()}, but the .changes says ${parsed.version}`);

  let listed: Listed[];
  try {
    listed = listedFiles(paragraph, dscName, false);
  } catch (err) {
    if (err instanceof UploadRejection && err.code === 'CHANGES_INVALID') throw invalid(err.message);
    throw err;
  }
  const fromPool: { name: string; path: string }[] = [];
  const inSpool: { name: string; path: string }[] = [];
  for (const file of listed) {
    const inUpload = uploaded.find((u) => u.name === file.name);
    if (inUpload && (inUpload.sha256 !== file.sha256 || inUpload.size !== file.size))
      throw new UploadRejection(
        'CHECKSUM_MISMATCH',
        `${file.name} in the upload is not the file ${dscName} lists (SHA-256 ${inUpload.sha256}, the .dsc says ${file.sha256}): rebuild the source package`,
      );
    const pooled = await env.poolFile(repo.identity, parsed.source, file.name);
    const poolHash = pooled === null ? null : (await hashFile(pooled)).sha256;
    if (pooled !== null && poolHash !== file.sha256)
      throw new UploadRejection(
        'CHECKSUM_MISMATCH',
        `${file.name} differs from the file of that name already in repository ${repo.identity}'s pool ` +
          `(SHA-256 ${poolHash}, ${dscName} says ${file.sha256}): a file once published cannot change; ` +
          'use the orig tarball that is in the repository, or a new upstream version',
      );
    if (inUpload) {
      inSpool.push({ name: file.name, path: containedPath(upload.spoolDir, file.name) });
      continue;
    }
    if (pooled === null)
      throw new UploadRejection(
        'DSC_FILE_MISSING',
        `${file.name}, listed in ${dscName}, is neither in the upload nor in repository ${repo.identity}'s pool: ` +
          'include it (dpkg-buildpackage -S -sa)',
      );
    fromPool.push({ name: file.name, path: pooled });
  }
  return {
    path: dscPath,
    architectures: paragraph.get('Architecture')!.trim().split(/\s+/),
    uploaded: inSpool,
    fromPool,
  };
}

/** A clearsigned .dsc must verify, by the key that signed the .changes. */
async function checkDscSignature(
  env: UploadEnvironment,
  text: string,
  paragraph: Paragraph,
  dscName: string,
  changesName: string,
  changesKey: string,
): Promise<void> {
  const now = new Date();
  const sameKey = 'sign both with the same key (debsign does)';
  let verified;
  try {
    verified = await verifyClearsigned(text, uniqueKeys(env), {
      source: dscName,
      date: new Date(now.getTime() + FUTURE_SIGNATURE_TOLERANCE_DAYS * DAY_MS),
    });
  } catch (err) {
    if (!(err instanceof SignatureError)) throw err;
    if (err.code === 'UNKNOWN_KEY') {
      const issuers = await clearsignedIssuers(text);
      throw new UploadRejection(
        'DSC_SIGNATURE',
        `${dscName} is signed by key ${issuers.join(', ') || '(unreadable)'}, which debyard does not know, but ` +
          `${changesName} by key ${changesKey}: ${sameKey}`,
      );
    }
    throw new UploadRejection(
      'DSC_SIGNATURE',
      `${err.message}${signatureHint(err, now)} (${changesName} is signed by key ${changesKey}; ${sameKey})`,
    );
  }
  if (verified.signer.fingerprint !== changesKey)
    throw new UploadRejection(
      'DSC_SIGNATURE',
      `${dscName} is signed by key ${verified.signer.fingerprint}, but ${changesName} by key ${changesKey}: ${sameKey}`,
    );
  let signed: Paragraph | undefined;
  try {
    signed = parseSingleParagraph(verified.text, { source: dscName });
  } catch {
    signed = undefined;
  }
  if (!signed || JSON.stringify(signed.toObject()) !== JSON.stringify(paragraph.toObject()))
    throw new UploadRejection(
      'DSC_SIGNATURE',
      `${dscName}: the signed text differs from the text around it; sign it again with debsign`,
    );
}

// ---------------------------------------------------------------------------------------------
// The database layer.

export interface CheckContext {
  dataDir: string;
  keys: InstanceKeyStore;
  logger: Logger;
}

/** Checks a spooled upload against the configuration in the database; throws {@link UploadRejection}. */
export async function checkUpload(em: EntityManager, ctx: CheckContext, upload: SpooledUpload): Promise<CheckedUpload> {
  const env = await loadEnvironment(em, ctx);
  return checkSpooledUpload(env, upload, { logger: ctx.logger });
}

function notActive(what: string, status: ConfigStatus): string | null {
  return status === ConfigStatus.ACTIVE
    ? null
    : `is ${status.toLowerCase()}, not active: ${what} must be prepared, checked and activated first`;
}

/** Reads the configuration the checks need; look-ups that touch reprepro and the pool are done on demand. */
export async function loadEnvironment(em: EntityManager, ctx: CheckContext): Promise<UploadEnvironment> {
  const repos = await em.find(
    Repository,
    {},
    {
      populate: [
        'layout.suiteOptions.suite',
        'distributions.baseSource',
        'distributions.extraSources.source',
        'distributions.components',
      ],
    },
  );
  const repositories: RepositoryConfig[] = repos.map((r) => ({
    identity: r.identity,
    inactive: notActive('an administrator', r.status),
    allowUnauthenticatedUploads: r.allowUnauthenticatedUploads,
    metaDistributions: r.layout.metaDistributions,
    suites: r.layout.suiteOptions
      .getItems()
      .map((o) => ({ name: o.suite.name, uploadable: o.uploadable, experimental: o.experimental })),
    distributions: r.distributions.getItems().map((d) => {
      const sources = [d.baseSource, ...d.extraSources.getItems().map((p) => p.source)];
      const off = sources.find((s) => s.status !== ConfigStatus.ACTIVE);
      return {
        codename: d.baseSource.codename,
        codeversion: d.baseSource.effectiveCodeversion,
        inactive: off ? `uses source ${off.key}, which ${notActive('it', off.status)}` : null,
      };
    }),
    mandatoryVersionRegex: r.layout.mandatoryVersionRegex,
    experimentalMandatoryVersionRegex: r.layout.experimentalMandatoryVersionRegex,
    defaultVersion: r.layout.defaultVersion,
    experimentalDefaultVersion: r.layout.experimentalDefaultVersion,
  }));

  const keys: UploadKey[] = [];
  const instance = await readArmoredKeys(await ctx.keys.armoredPublicKey(), 'the instance key');
  for (const key of instance)
    keys.push({ fingerprint: fpr(key), owner: 'the instance key', key, repositories: 'all', inactive: null });
  for (const r of repos) {
    if (!r.extraUploaderKeys.trim()) continue;
    const extra = await readArmoredKeys(r.extraUploaderKeys, `extra uploader keys of ${r.identity}`).catch(
      (err: Error) => {
        ctx.logger.warn({ repository: r.identity, err: err.message }, 'unreadable extra uploader keys');
        return [];
      },
    );
    for (const key of extra)
      keys.push({
        fingerprint: fpr(key),
        owner: `extra key of repository ${r.identity} (${key.getUserIDs()[0] ?? fpr(key)})`,
        key,
        repositories: [r.identity],
        inactive: null,
      });
  }
  for (const u of await em.find(Uploader, {}, { populate: ['user', 'repositories'] })) {
    if (!u.armored) continue;
    const parsed = await readArmoredKeys(u.armored, `uploader key ${u.fingerprint}`).catch(() => []);
    for (const key of parsed.filter((k) => fpr(k) === u.fingerprint))
      keys.push({
        fingerprint: u.fingerprint,
        owner: u.user?.username ?? u.userIds[0] ?? u.fingerprint,
        key,
        repositories: u.repositories.getItems().map((r) => r.identity),
        // A deactivated user's keys stop at once, whatever state the keys are in.
        inactive:
          u.user?.inactiveReason ??
          (u.status === ConfigStatus.ACTIVE ? null : `the uploader key ${notActive('it', u.status)}`),
      });
  }

  const byIdentity = new Map(repos.map((r) => [r.identity, r]));
  return {
    repositories,
    keys,
    uploadsWithSha256: async (sha256) =>
      (await em.find(Upload, { changesSha256: sha256 }, { fields: ['id', 'state', 'receivedAt', 'signedBy'] })).map(
        (u) => ({ id: u.id, state: u.state, receivedAt: u.receivedAt, signedBy: u.signedBy }),
      ),
    installed: async (identity, source) => {
      const repo = byIdentity.get(identity)!;
      const rows = await repreproFor({ em, ...ctx }, repo).ls(source);
      return rows.map((row) => ({ version: row.version, distribution: row.distribution }));
    },
    poolFile: async (identity, source, name) => {
      const repo = byIdentity.get(identity)!;
      const components = new Set(
        repo.distributions.getItems().flatMap((d) => d.components.getItems().map((c) => c.name)),
      );
      const pool = path.join(ctx.dataDir, 'repositories', identity, 'pool');
      for (const component of components) {
        const file = containedPath(pool, path.join(component, poolPrefix(source), source, name));
        const st = await fsp.lstat(file).catch(() => null);
        if (st?.isFile()) return file;
      }
      return null;
    },
  };
}

/** reprepro's (and Debian's) pool directory: `libf` for libfoo, `h` for hello. */
export function poolPrefix(source: string): string {
  return source.startsWith('lib') && source.length > 3 ? source.slice(0, 4) : source.slice(0, 1);
}

function fpr(key: openpgp.PublicKey): string {
  return key.getFingerprint().toUpperCase();
}
