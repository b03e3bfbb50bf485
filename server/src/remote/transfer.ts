/**
 * Build requests and build results between instances, in mini-buildd's transfer format
 * (reference/mini-buildd.md §3.4, §3.5, §5.3): a clearsigned deb822 `.changes` whose `Files` are a tar
 * (and, for a result, the build log), sent by FTP to the other instance's incoming.
 *
 * - Request `<src>_<ver>_mini-buildd-buildrequest_<arch>.changes`, signed by the packager; its tar holds
 *   `.config/{apt_sources.list,apt_preferences,apt_keys}`, the `.dsc` and every file the .dsc lists.
 * - Result `<src>_<ver>_mini-buildd-buildresult_<arch>.changes`, signed by the builder; its files are the
 *   build log and, when sbuild wrote one, `<binary changes>.tar` holding sbuild's .changes and its files.
 *   debyard adds `X-Debyard-*` fields with what it knows beyond sbuild's status (mini-buildd ignores them).
 *
 * Reading trusts nothing before the signature: the .changes is verified against the given keys first,
 * then parsed; every listed file must be next to it with the size and checksums the signed text gives;
 * tars are listed with GNU tar ({@link listTarball}) and refused (UNSAFE_TAR) for absolute names, `..`,
 * links, devices, setuid/setgid or any member that is not one of the expected names, before anything
 * is unpacked. The version's epoch is left out of file names, as in Debian's own .changes names.
 *
 * mini-buildd's own tars also hold the transfer .changes itself; readers accept that member and skip it.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Client as FtpClient } from 'basic-ftp';
import { execa } from 'execa';
import type * as openpgp from 'openpgp';
import { BuildResult, QaResult } from '../build/build.entity.js';
import { stripClearsign } from '../build/dsc.js';
import { Deb822Error, formatDeb822, parseSingleParagraph, type Paragraph } from '../debian/deb822.js';
import { clearsignedIssuers, SignatureError, verifyClearsigned } from '../pgp/verify.js';
import { listTarball, TarError, type TarMember } from '../upload/tar.js';
import { checkFileName, UnsafePathError } from '../util/paths.js';

export type TransferKind = 'request' | 'result';

export type TransferErrorCode =
  'UNKNOWN_KEY' | 'BAD_SIGNATURE' | 'MALFORMED_TRANSFER' | 'CHECKSUM_MISMATCH' | 'UNSAFE_TAR' | 'UPLOAD_FAILED';

/** Why a build request or result could not be written, read or sent; the message names the file. */
export class TransferError extends Error {
  override readonly name = 'TransferError';
  constructor(
    readonly code: TransferErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export interface BuildRequestFields {
  /** `<codename>-<repo>-<suite>`. */
  distribution: string;
  source: string;
  version: string;
  architecture: string;
  /** Unique per request; the result echoes it. */
  timecode: string;
  /** The packager's FTP URL the result goes to. */
  uploadTo: string;
  /** The packager's HTTP URL. */
  packager: string;
  /** The builder's HTTP URL. */
  builder: string;
  /** Whether this architecture builds the `Architecture: all` packages. */
  archAll: boolean;
  buildDepResolver: string;
  debBuildOptions: string;
  debBuildProfiles: string;
  addDepends: string;
  /** DISABLED|IGNORE|ERRFAIL|WARNFAIL, or '' to leave it to the builder. */
  lintianMode: string;
  lintianExtraOptions: string;
  autopkgtestMode: string;
  /** Where the packager keeps the log, e.g. `<src>_<ver>/<arch>/<src>_<ver>_<arch>.buildlog`. */
  buildlog: string;
}

/** What the builder needs besides the source: the distribution's apt configuration. */
export interface BuildRequestConfig {
  aptSources: string;
  aptPreferences: string;
  /** Armored keys, concatenated. */
  aptKeys: string;
}

export interface ReadRequest {
  fields: BuildRequestFields;
  config: BuildRequestConfig;
  /** The extracted .dsc, its files next to it. */
  dsc: string;
  /** Fingerprint of the signing key, upper-case hex. */
  signedBy: string;
  signedAt: Date;
}

export interface BuildResultFields {
  distribution: string;
  source: string;
  version: string;
  architecture: string;
  /** The request's timecode. */
  timecode: string;
  builder: string;
  buildlog: string;
  uploadTo: string;
  /** sbuild's Status: successful|skipped|failed|attempted|given-back|error. */
  sbuildStatus: string;
  /** A {@link BuildResult} name. */
  result: string;
  failStage: string | null;
  reason: string;
  /** A {@link QaResult} name. */
  lintian: string;
  /** A {@link QaResult} name. */
  autopkgtest: string;
  sbuildSeconds: number | null;
  qaSeconds: number | null;
  canceledBy: string | null;
  internalError: string | null;
}

export interface ReadResult {
  fields: BuildResultFields;
  /** The build log, copied into extractTo. */
  log: string;
  /** sbuild's .changes extracted with its files, or null when the builder sent none (failed build). */
  binaryChanges: string | null;
  signedBy: string;
  signedAt: Date;
}

const X = 'X-Mini-Buildd-';
const D = 'X-Debyard-';
const REQUEST_MARK = '_mini-buildd-buildrequest_';
const RESULT_MARK = '_mini-buildd-buildresult_';
const TRANSFER_NAME = /^([^/_]+)_([^/_]+)_mini-buildd-build(request|result)_([^/_]+)\.changes$/;
/** A transfer .changes is a page of fields; anything larger is not one. */
const MAX_CHANGES_BYTES = 1024 * 1024;
/** A .dsc or an sbuild .changes read from a tar, likewise. */
const MAX_CONTROL_BYTES = 4 * 1024 * 1024;
const TAR_TIMEOUT_MS = 120_000;
/**
 * How far ahead of ours another instance's clock may be: openpgp.js refuses a signature made even a
 * second "in the future", and two instances' clocks are never exactly alike.
 */
export const CLOCK_SKEW_MS = 10 * 60_000;
const CONFIG_DIR = '.config';
const CONFIG_FILES = { aptSources: 'apt_sources.list', aptPreferences: 'apt_preferences', aptKeys: 'apt_keys' };
/** Further `.config/` files mini-buildd sends; accepted and unpacked, not used. */
const MINI_BUILDD_CONFIG_FILES = ['ssl_cert', 'chroot_setup_script', 'sbuildrc_snippet'];
export const SBUILD_STATUSES = ['successful', 'skipped', 'failed', 'attempted', 'given-back', 'error'] as const;
export const QA_MODES = ['DISABLED', 'IGNORE', 'ERRFAIL', 'WARNFAIL'] as const;
const TAR_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', TZ: 'UTC', TAR_OPTIONS: '' };

/** Request fields written as `X-Mini-Buildd-<name>`, in order; `true` = mandatory when reading. */
const REQUEST_CFIELDS: [keyof BuildRequestFields, string, boolean][] = [
  ['timecode', 'Timecode', true],
  ['uploadTo', 'Upload-To', true],
  ['packager', 'Packager', true],
  ['builder', 'Builder', true],
  ['buildDepResolver', 'Build-Dep-Resolver', false],
  ['debBuildOptions', 'Deb-Build-Options', false],
  ['debBuildProfiles', 'Deb-Build-Profiles', false],
  ['addDepends', 'Add-Depends', false],
  ['lintianMode', 'Lintian-Mode', false],
  ['lintianExtraOptions', 'Lintian-Extra-Options', false],
  ['autopkgtestMode', 'Autopkgtest-Mode', false],
  ['buildlog', 'Buildlog', true],
];

/** Which transfer a file is, by its name; null for anything else (e.g. an upload's .changes). */
export function transferKind(changesName: string): TransferKind | null {
  const m = TRANSFER_NAME.exec(path.basename(changesName));
  return m ? (m[3] === 'request' ? 'request' : 'result') : null;
}

/** The .changes name of a transfer: `<src>_<ver without epoch>_mini-buildd-build<kind>_<arch>.changes`. */
export function transferChangesName(kind: TransferKind, source: string, version: string, arch: string): string {
  return `${source}_${withoutEpoch(version)}${kind === 'request' ? REQUEST_MARK : RESULT_MARK}${arch}.changes`;
}

/** A unique request id: the time to the millisecond and a random suffix. */
export function newTimecode(): string {
  return `${new Date().toISOString()}-${randomBytes(4).toString('hex')}`;
}

/** Makes free text (a reason, an error message) fit a field: one line, blanks collapsed. */
export function fieldText(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

/** The sbuild Status mini-buildd expects for one of our results. */
export function sbuildStatusFor(result: BuildResult): string {
  switch (result) {
    case BuildResult.SUCCESSFUL:
      return 'successful';
    case BuildResult.SKIPPED:
      return 'skipped';
    case BuildResult.FAILED:
      return 'attempted';
    case BuildResult.GIVEN_BACK:
      return 'given-back';
    case BuildResult.CANCELLED:
    case BuildResult.ERROR:
      return 'failed';
  }
}

/** sbuild's check status for a QA result (`Sbuild-Lintian`, `Sbuild-Autopkgtest`); null when it did not run. */
export function qaToWire(qa: QaResult): string | null {
  switch (qa) {
    case QaResult.NOT_RUN:
      return null;
    case QaResult.PASS:
      return 'pass';
    case QaResult.WARN:
      return 'warn';
    case QaResult.FAIL:
      return 'fail';
    case QaResult.ERROR:
      return 'error';
  }
}

/** The QA result for sbuild's check status (mini-buildd's builders send only that). */
export function qaFromWire(status: string | undefined): QaResult {
  switch (status) {
    case undefined:
    case '':
      return QaResult.NOT_RUN;
    case 'pass':
    case 'info':
      return QaResult.PASS;
    case 'warn':
    case 'no tests':
      return QaResult.WARN;
    case 'fail':
      return QaResult.FAIL;
    default:
      return QaResult.ERROR;
  }
}

function resultFromWire(status: string, canceledBy: string | null, internalError: string | null): BuildResult {
  if (canceledBy) return BuildResult.CANCELLED;
  if (internalError) return BuildResult.ERROR;
  switch (status) {
    case 'successful':
      return BuildResult.SUCCESSFUL;
    case 'skipped':
      return BuildResult.SKIPPED;
    case 'attempted':
      return BuildResult.FAILED;
    case 'given-back':
      return BuildResult.GIVEN_BACK;
    default:
      return BuildResult.ERROR;
  }
}

// ---------------------------------------------------------------------------------------------------
// Writing

/**
 * Writes a signed build request and its tar into outDir. Returns absolute paths; `files` is the upload
 * order (tar, then the .changes). Throws TransferError MALFORMED_TRANSFER for fields that cannot be
 * written (a newline, a name that is not a safe file name) and for a .dsc whose files are not next to it.
 */
export async function writeBuildRequest(
  outDir: string,
  fields: BuildRequestFields,
  config: BuildRequestConfig,
  dsc: string,
  sign: (text: string) => Promise<string>,
): Promise<{ changes: string; files: string[] }> {
  const changesName = transferChangesName('request', fields.source, fields.version, fields.architecture);
  const paragraph: Record<string, string> = {
    Format: '1.8',
    Distribution: fields.distribution,
    Source: fields.source,
    Version: fields.version,
    Architecture: fields.architecture,
  };
  for (const [key, name] of REQUEST_CFIELDS) {
    const value = fields[key] as string;
    if (value !== '') paragraph[X + name] = value;
    if (key === 'builder' && fields.archAll) paragraph[`${X}Arch-All`] = 'Yes';
  }
  // debyard does not run piuparts; mini-buildd's builder wants the mode all the same.
  paragraph[`${X}Piuparts-Mode`] = 'DISABLED';
  checkWritable(
    paragraph,
    changesName,
    ['Distribution', 'Source', 'Version', 'Architecture'].concat(
      REQUEST_CFIELDS.filter(([, , required]) => required).map(([, name]) => X + name),
    ),
  );
  for (const mode of ['Lintian-Mode', 'Autopkgtest-Mode'])
    if (paragraph[X + mode] !== undefined && !(QA_MODES as readonly string[]).includes(paragraph[X + mode]!))
      throw malformed(`${changesName}: ${X}${mode} "${paragraph[X + mode]}" is not one of ${QA_MODES.join(', ')}`);

  const dscDir = path.dirname(path.resolve(dsc));
  const dscName = path.basename(dsc);
  checkName(dscName, `${changesName}: the .dsc`);
  if (!dscName.endsWith('.dsc')) throw malformed(`${changesName}: ${dscName} is not a .dsc`);
  const listed = await readControlFile(path.resolve(dsc), 'dsc');
  for (const f of listed) await mustExist(path.join(dscDir, f.name), `${dscName} lists ${f.name}`);

  await fsp.mkdir(outDir, { recursive: true });
  const changes = path.join(path.resolve(outDir), changesName);
  const tar = `${changes}.tar`;
  const staging = await fsp.mkdtemp(path.join(path.resolve(outDir), '.request-'));
  try {
    await fsp.mkdir(path.join(staging, CONFIG_DIR));
    for (const key of ['aptKeys', 'aptPreferences', 'aptSources'] as const)
      await fsp.writeFile(path.join(staging, CONFIG_DIR, CONFIG_FILES[key]), config[key]);
    await createTar(tar, [
      {
        dir: staging,
        names: Object.values(CONFIG_FILES)
          .sort()
          .map((n) => `${CONFIG_DIR}/${n}`),
      },
      { dir: dscDir, names: [dscName, ...listed.map((f) => f.name).sort()] },
    ]);
  } finally {
    await fsp.rm(staging, { recursive: true, force: true });
  }
  await writeSigned(changes, paragraph, [await describeFile(tar)], sign);
  return { changes, files: [tar, changes] };
}

/**
 * Writes a signed build result into outDir: the log (copied in as `<src>_<ver>_<arch>.buildlog`), the
 * tar of sbuild's .changes and its files when there is one, and the .changes. `files` is the upload
 * order, the .changes last.
 */
export async function writeBuildResult(
  outDir: string,
  fields: BuildResultFields,
  log: string,
  binaryChanges: string | null,
  sign: (text: string) => Promise<string>,
): Promise<{ changes: string; files: string[] }> {
  const changesName = transferChangesName('result', fields.source, fields.version, fields.architecture);
  if (!(SBUILD_STATUSES as readonly string[]).includes(fields.sbuildStatus))
    throw malformed(
      `${changesName}: Sbuild-Status "${fields.sbuildStatus}" is not one of ${SBUILD_STATUSES.join(', ')}`,
    );
  if (!Object.values(BuildResult).includes(fields.result as BuildResult))
    throw malformed(`${changesName}: "${fields.result}" is not a BuildResult`);
  for (const [what, qa] of [
    ['lintian', fields.lintian],
    ['autopkgtest', fields.autopkgtest],
  ] as const)
    if (!Object.values(QaResult).includes(qa as QaResult))
      throw malformed(`${changesName}: ${what} "${qa}" is not a QaResult`);
  for (const [what, n] of [
    ['sbuildSeconds', fields.sbuildSeconds],
    ['qaSeconds', fields.qaSeconds],
  ] as const)
    if (n !== null && !(Number.isFinite(n) && n >= 0))
      throw malformed(`${changesName}: ${what} ${n} is not a number of seconds`);
  const seconds = (n: number | null) => (n === null ? undefined : String(Math.round(n)));
  const lintian = qaToWire(fields.lintian as QaResult);
  const autopkgtest = qaToWire(fields.autopkgtest as QaResult);
  const candidates: [string, string | null | undefined][] = [
    ['Distribution', fields.distribution],
    ['Source', fields.source],
    ['Version', fields.version],
    ['Architecture', fields.architecture],
    [`${X}Timecode`, fields.timecode],
    [`${X}Builder`, fields.builder],
    [`${X}Buildlog`, fields.buildlog],
    [`${X}Upload-To`, fields.uploadTo],
    [`${X}Sbuild-Status`, fields.sbuildStatus],
    [`${X}Sbuild-Lintian`, lintian],
    [`${X}Sbuild-Autopkgtest`, autopkgtest],
    [`${X}Sbuild-Build-Time`, seconds(fields.sbuildSeconds)],
    [`${X}Canceled-By`, fields.canceledBy],
    [`${X}Internal-Error`, fields.internalError],
    [`${D}Result`, fields.result],
    [`${D}Fail-Stage`, fields.failStage],
    [`${D}Reason`, fields.reason],
    [`${D}Sbuild-Seconds`, fields.sbuildSeconds === null ? undefined : String(fields.sbuildSeconds)],
    [`${D}Qa-Seconds`, fields.qaSeconds === null ? undefined : String(fields.qaSeconds)],
    [`${D}Lintian`, fields.lintian],
    [`${D}Autopkgtest`, fields.autopkgtest],
  ];
  const paragraph: Record<string, string> = {};
  for (const [name, value] of candidates)
    if (value !== null && value !== undefined && value !== '') paragraph[name] = value;
  checkWritable(
    paragraph,
    changesName,
    ['Distribution', 'Source', 'Version', 'Architecture'].concat(
      ['Timecode', 'Builder', 'Buildlog', 'Upload-To'].map((n) => X + n),
    ),
  );

  await fsp.mkdir(outDir, { recursive: true });
  const dir = path.resolve(outDir);
  const changes = path.join(dir, changesName);
  const logName = `${fields.source}_${withoutEpoch(fields.version)}_${fields.architecture}.buildlog`;
  const logCopy = path.join(dir, logName);
  await mustExist(path.resolve(log), 'the build log');
  if (path.resolve(log) !== logCopy) await fsp.copyFile(log, logCopy);
  const files = [logCopy];
  if (binaryChanges !== null) {
    const from = path.dirname(path.resolve(binaryChanges));
    const name = path.basename(binaryChanges);
    checkName(name, `${changesName}: the binary .changes`);
    if (!name.endsWith('.changes')) throw malformed(`${changesName}: ${name} is not a .changes`);
    const listed = await readControlFile(path.resolve(binaryChanges), 'changes');
    for (const f of listed) await mustExist(path.join(from, f.name), `${name} lists ${f.name}`);
    const tar = path.join(dir, `${name}.tar`);
    await createTar(tar, [{ dir: from, names: [name, ...listed.map((f) => f.name).sort()] }]);
    files.push(tar);
  }
  await writeSigned(changes, paragraph, await Promise.all(files.map(describeFile)), sign);
  return { changes, files: [...files, changes] };
}

function checkWritable(paragraph: Record<string, string>, changesName: string, required: string[]): void {
  checkName(changesName, 'the transfer .changes name');
  for (const name of required)
    if (!paragraph[name]) throw malformed(`${changesName}: ${name} is empty; it is mandatory`);
  for (const [name, value] of Object.entries(paragraph))
    if (/[\r\n]/.test(value))
      throw malformed(
        `${changesName}: ${name} holds a line break; field values are one line (fieldText() makes free text fit)`,
      );
}

interface DescribedFile {
  name: string;
  size: number;
  md5: string;
  sha256: string;
}

async function describeFile(file: string): Promise<DescribedFile> {
  const { size, md5, sha256 } = await hashFile(file);
  return { name: path.basename(file), size, md5, sha256 };
}

async function hashFile(file: string): Promise<{ size: number; md5: string; sha256: string }> {
  const md5 = createHash('md5');
  const sha256 = createHash('sha256');
  let size = 0;
  await pipeline(fs.createReadStream(file), async (chunks: AsyncIterable<Buffer>) => {
    for await (const chunk of chunks) {
      size += chunk.length;
      md5.update(chunk);
      sha256.update(chunk);
    }
  });
  return { size, md5: md5.digest('hex'), sha256: sha256.digest('hex') };
}

async function writeSigned(
  changes: string,
  fields: Record<string, string>,
  files: DescribedFile[],
  sign: (text: string) => Promise<string>,
): Promise<void> {
  const text = formatDeb822([
    {
      ...fields,
      Files: ['', ...files.map((f) => `${f.md5} ${f.size} mini-buildd extra ${f.name}`)].join('\n'),
      'Checksums-Sha256': ['', ...files.map((f) => `${f.sha256} ${f.size} ${f.name}`)].join('\n'),
    },
  ]);
  await fsp.writeFile(changes, await sign(text));
}

/** A tar that reads the same for the same files: fixed order, times, owners and modes. */
async function createTar(tar: string, parts: { dir: string; names: string[] }[]): Promise<void> {
  const args = [
    '--create',
    '--file',
    tar,
    '--force-local',
    '--format=gnu',
    '--no-recursion',
    // Pool files may be symlinks or hard links: always store the files themselves.
    '--dereference',
    '--hard-dereference',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--mode=u=rw,go=r',
  ];
  for (const part of parts) args.push('--directory', part.dir, ...part.names);
  const r = await execa('tar', args, { env: TAR_ENV, extendEnv: false, stdin: 'ignore', reject: false });
  if (r.exitCode !== 0) {
    await fsp.rm(tar, { force: true });
    throw new Error(`tar could not write ${path.basename(tar)}: ${String(r.stderr).trim() || `exit ${r.exitCode}`}`);
  }
}

// ---------------------------------------------------------------------------------------------------
// Reading

/**
 * Verifies a build request against `keys`, checks its tar and unpacks it into extractTo (which must be
 * absent or empty; removed again on failure). Throws TransferError.
 */
export async function readBuildRequest(
  changes: string,
  keys: openpgp.PublicKey[],
  extractTo: string,
): Promise<ReadRequest> {
  const t = await readTransfer(changes, keys, 'request');
  const fields: BuildRequestFields = {
    distribution: t.required('Distribution'),
    source: t.required('Source'),
    version: t.required('Version'),
    architecture: t.required('Architecture'),
    archAll: false,
    ...Object.fromEntries(
      REQUEST_CFIELDS.map(([key, name, required]) => [key, required ? t.required(X + name) : t.optional(X + name)]),
    ),
  } as BuildRequestFields;
  fields.archAll = /^yes$/i.test(t.optional(`${X}Arch-All`));
  for (const [key, name] of [
    ['lintianMode', 'Lintian-Mode'],
    ['autopkgtestMode', 'Autopkgtest-Mode'],
  ] as const) {
    const mode = fields[key].toUpperCase();
    if (mode !== '' && !(QA_MODES as readonly string[]).includes(mode))
      throw malformed(`${t.name}: ${X}${name} "${fields[key]}" is not one of ${QA_MODES.join(', ')}`);
    fields[key] = mode;
  }
  t.checkName(fields);
  const tarName = `${t.name}.tar`;
  const extra = t.files.filter((f) => f.name !== tarName);
  if (extra.length > 0 || t.files.length !== 1)
    throw malformed(
      `${t.name}: Files must list ${tarName} and nothing else (it lists ${t.files.map((f) => f.name).join(', ')})`,
    );

  return withDestination(extractTo, async (dest) => {
    const tar = path.join(t.dir, tarName);
    const configNames = [...Object.values(CONFIG_FILES), ...MINI_BUILDD_CONFIG_FILES].map((n) => `${CONFIG_DIR}/${n}`);
    const members = await listMembers(tar, (name) => {
      if (name === CONFIG_DIR) return 'directory';
      if (configNames.includes(name)) return 'file';
      if (!name.includes('/') && isSafeName(name)) return 'file';
      return null;
    });
    for (const n of Object.values(CONFIG_FILES))
      if (!members.has(`${CONFIG_DIR}/${n}`)) throw malformed(`${tarName} has no ${CONFIG_DIR}/${n}`);
    const dscs = [...members.keys()].filter((n) => n.endsWith('.dsc'));
    if (dscs.length !== 1)
      throw malformed(
        `${tarName} must hold one .dsc at its top, it holds ${dscs.length === 0 ? 'none' : dscs.join(', ')}`,
      );
    const dscName = dscs[0]!;
    await extract(tar, dest, [members.get(dscName)!]);
    const dsc = path.join(dest, dscName);
    const listed = await readControlFile(dsc, 'dsc');
    if (listed.some((f) => f.name === t.name)) throw malformed(`${dscName} lists ${t.name}, the request itself`);
    const expected = new Set([...configNames, dscName, t.name, ...listed.map((f) => f.name)]);
    await checkMembersAgainst(tarName, members, expected, listed, dscName);
    // The transfer .changes that mini-buildd puts into its tars is not needed: the one next to the tar was verified.
    const rest = [...members]
      .filter(([n]) => n !== dscName && n !== t.name && n !== CONFIG_DIR)
      .map(([, stored]) => stored);
    await extract(tar, dest, rest);
    await verifyListed(dest, listed, dscName);
    const readConfig = (name: string) => fsp.readFile(path.join(dest, CONFIG_DIR, name), 'utf8');
    return {
      fields,
      config: {
        aptSources: await readConfig(CONFIG_FILES.aptSources),
        aptPreferences: await readConfig(CONFIG_FILES.aptPreferences),
        aptKeys: await readConfig(CONFIG_FILES.aptKeys),
      },
      dsc,
      signedBy: t.signedBy,
      signedAt: t.signedAt,
    };
  });
}

/**
 * Verifies a build result against `keys`, copies its log into extractTo (absent or empty; removed again
 * on failure) and unpacks its binary .changes with its files there. Throws TransferError.
 */
export async function readBuildResult(
  changes: string,
  keys: openpgp.PublicKey[],
  extractTo: string,
): Promise<ReadResult> {
  const t = await readTransfer(changes, keys, 'result');
  const canceledBy = t.optional(`${X}Canceled-By`) || null;
  const internalError = t.optional(`${X}Internal-Error`) || null;
  const sbuildStatus = t.required(`${X}Sbuild-Status`);
  if (!(SBUILD_STATUSES as readonly string[]).includes(sbuildStatus))
    throw malformed(`${t.name}: ${X}Sbuild-Status "${sbuildStatus}" is not one of ${SBUILD_STATUSES.join(', ')}`);
  const ours = <T extends string>(field: string, values: Record<string, T>, fallback: T): T => {
    const value = t.optional(D + field);
    if (value === '') return fallback;
    if (!Object.values(values).includes(value as T)) throw malformed(`${t.name}: ${D}${field} "${value}" is not known`);
    return value as T;
  };
  const lintian = ours('Lintian', QaResult, qaFromWire(t.optional(`${X}Sbuild-Lintian`)));
  const autopkgtest = ours('Autopkgtest', QaResult, qaFromWire(t.optional(`${X}Sbuild-Autopkgtest`)));
  const fields: BuildResultFields = {
    distribution: t.required('Distribution'),
    source: t.required('Source'),
    version: t.required('Version'),
    architecture: t.required('Architecture'),
    timecode: t.required(`${X}Timecode`),
    builder: t.required(`${X}Builder`),
    buildlog: t.required(`${X}Buildlog`),
    uploadTo: t.required(`${X}Upload-To`),
    sbuildStatus,
    result: ours('Result', BuildResult, resultFromWire(sbuildStatus, canceledBy, internalError)),
    failStage: t.optional(`${D}Fail-Stage`) || null,
    // debyard's own results say the reason; for mini-buildd's, the internal error is the only one there is.
    reason: t.optional(`${D}Result`) ? t.optional(`${D}Reason`) : (internalError ?? ''),
    lintian,
    autopkgtest,
    sbuildSeconds: t.number(`${D}Sbuild-Seconds`) ?? t.number(`${X}Sbuild-Build-Time`),
    qaSeconds: t.number(`${D}Qa-Seconds`),
    canceledBy,
    internalError,
  };
  t.checkName(fields);
  const logs = t.files.filter((f) => f.name.endsWith('.buildlog'));
  const tars = t.files.filter((f) => f.name.endsWith('.changes.tar'));
  if (logs.length !== 1 || tars.length > 1 || logs.length + tars.length !== t.files.length)
    throw malformed(
      `${t.name}: Files must list one .buildlog and at most one .changes.tar (it lists ${t.files.map((f) => f.name).join(', ')})`,
    );

  return withDestination(extractTo, async (dest) => {
    const log = path.join(dest, logs[0]!.name);
    await fsp.copyFile(path.join(t.dir, logs[0]!.name), log);
    if (tars.length === 0) return { fields, log, binaryChanges: null, signedBy: t.signedBy, signedAt: t.signedAt };
    const tarName = tars[0]!.name;
    const tar = path.join(t.dir, tarName);
    const binaryName = tarName.slice(0, -'.tar'.length);
    const members = await listMembers(tar, (name) => (!name.includes('/') && isSafeName(name) ? 'file' : null));
    const stored = members.get(binaryName);
    if (!stored) throw malformed(`${tarName} does not hold ${binaryName}`);
    await extract(tar, dest, [stored]);
    const binaryChanges = path.join(dest, binaryName);
    const listed = await readControlFile(binaryChanges, 'changes');
    await checkMembersAgainst(
      tarName,
      members,
      new Set([binaryName, ...listed.map((f) => f.name)]),
      listed,
      binaryName,
    );
    await extract(
      tar,
      dest,
      [...members].filter(([n]) => n !== binaryName).map(([, s]) => s),
    );
    await verifyListed(dest, listed, binaryName);
    return { fields, log, binaryChanges, signedBy: t.signedBy, signedAt: t.signedAt };
  });
}

interface ListedFile {
  name: string;
  size: number;
  md5?: string;
  sha256?: string;
}

interface Transfer {
  name: string;
  dir: string;
  files: ListedFile[];
  signedBy: string;
  signedAt: Date;
  required(field: string): string;
  optional(field: string): string;
  number(field: string): number | null;
  /** The .changes name must be the one its Source, Version and Architecture make. */
  checkName(fields: { source: string; version: string; architecture: string }): void;
}

/** Verifies, parses and checks the files of a transfer .changes; the signature comes first. */
async function readTransfer(changes: string, keys: openpgp.PublicKey[], kind: TransferKind): Promise<Transfer> {
  const name = path.basename(changes);
  const dir = path.dirname(path.resolve(changes));
  if (transferKind(name) !== kind)
    throw malformed(`${name} is not named as a build ${kind} (<src>_<ver>_mini-buildd-build${kind}_<arch>.changes)`);
  const bytes = await readSmall(changes, MAX_CHANGES_BYTES, name);
  let signed: string;
  try {
    signed = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw malformed(`${name} is not UTF-8 text`);
  }
  let verified;
  try {
    verified = await verifyClearsigned(signed, keys, { source: name, date: new Date(Date.now() + CLOCK_SKEW_MS) });
  } catch (err) {
    if (err instanceof SignatureError) throw await signatureFailure(name, signed, err);
    throw err;
  }
  let paragraph: Paragraph;
  try {
    paragraph = parseSingleParagraph(verified.text, { source: name });
  } catch (err) {
    if (err instanceof Deb822Error) throw malformed(`${name} is not a valid .changes: ${err.message}`, err);
    throw err;
  }
  const optional = (field: string) => {
    const value = paragraph.get(field) ?? '';
    if (value.includes('\n')) throw malformed(`${name}: ${field} spans several lines; it must be one line`);
    return value;
  };
  const required = (field: string) => {
    const value = optional(field);
    if (value === '') throw malformed(`${name} has no ${field} field; a build ${kind} must have it`);
    return value;
  };
  const files = listedFiles(paragraph, name);
  for (const f of files) await checkNextTo(dir, f, name);
  return {
    name,
    dir,
    files,
    signedBy: verified.signer.fingerprint,
    signedAt: verified.signedAt,
    required,
    optional,
    number(field) {
      const value = optional(field);
      if (value === '') return null;
      const n = Number(value);
      if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n))
        throw malformed(`${name}: ${field} "${value}" is not a number of seconds`);
      return n;
    },
    checkName(fields) {
      const expected = transferChangesName(kind, fields.source, fields.version, fields.architecture);
      if (expected !== name)
        throw malformed(`${name} does not match its fields: Source, Version and Architecture make ${expected}`);
    },
  };
}

async function signatureFailure(name: string, signed: string, err: SignatureError): Promise<TransferError> {
  const issuers = await clearsignedIssuers(signed);
  if (issuers.length === 0) return new TransferError('BAD_SIGNATURE', `${name}: ${err.message}`, { cause: err });
  const who = issuers.join(', ');
  if (err.code === 'UNKNOWN_KEY' || err.code === 'NO_KEYS')
    return new TransferError(
      'UNKNOWN_KEY',
      `${name} is signed by ${who}, which is neither our key nor the key of one of our remotes: ${err.message}`,
      { cause: err },
    );
  return new TransferError(
    'BAD_SIGNATURE',
    `${name}: the signature by ${who} is not valid (${err.code}): ${err.message}`,
    {
      cause: err,
    },
  );
}

/** `Files` (md5) joined with `Checksums-Sha256` when present; names, sizes and duplicates checked. */
function listedFiles(paragraph: Paragraph, source: string): ListedFile[] {
  const bad = malformed;
  const files = new Map<string, ListedFile>();
  for (const line of paragraph.lines('Files')) {
    // A .dsc's Files has 3 columns, a .changes's 5.
    const m = /^\s*([0-9a-fA-F]{32})\s+(\d+)\s+(?:\S+\s+\S+\s+)?(\S+)\s*$/.exec(line);
    if (!m) throw bad(`${source}: malformed Files line "${line.trim()}"`);
    const name = m[3]!;
    checkName(name, `${source} lists an unsafe file name`);
    if (files.has(name)) throw bad(`${source} lists ${name} twice`);
    files.set(name, { name, size: Number(m[2]), md5: m[1]!.toLowerCase() });
  }
  const sha = paragraph.lines('Checksums-Sha256');
  for (const line of sha) {
    const m = /^\s*([0-9a-fA-F]{64})\s+(\d+)\s+(\S+)\s*$/.exec(line);
    if (!m) throw bad(`${source}: malformed Checksums-Sha256 line "${line.trim()}"`);
    const name = m[3]!;
    checkName(name, `${source} lists an unsafe file name`);
    const entry = files.get(name);
    if (files.size > 0 && !entry) throw bad(`${source} lists ${name} in Checksums-Sha256 but not in Files`);
    if (entry && entry.size !== Number(m[2]))
      throw bad(`${source} gives ${name} two sizes (${entry.size} in Files, ${m[2]} in Checksums-Sha256)`);
    if (entry?.sha256) throw bad(`${source} lists ${name} twice`);
    if (entry) entry.sha256 = m[1]!.toLowerCase();
    else files.set(name, { name, size: Number(m[2]), sha256: m[1]!.toLowerCase() });
  }
  if (sha.length > 0)
    for (const f of files.values())
      if (!f.sha256) throw bad(`${source} lists ${f.name} in Files but not in Checksums-Sha256`);
  if (files.size === 0) throw bad(`${source} lists no files (Files and Checksums-Sha256 are empty or missing)`);
  return [...files.values()];
}

/** A listed file must be next to the .changes with its size and checksums. */
async function checkNextTo(dir: string, f: ListedFile, listedIn: string): Promise<void> {
  const file = path.join(dir, f.name);
  let stat: fs.Stats;
  try {
    stat = await fsp.lstat(file);
  } catch (err) {
    throw new TransferError(
      'CHECKSUM_MISMATCH',
      `${f.name}, listed in ${listedIn}, is not next to it in ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
  if (!stat.isFile())
    throw new TransferError('CHECKSUM_MISMATCH', `${f.name}, listed in ${listedIn}, is not a plain file`);
  await compare(file, f, listedIn);
}

async function compare(file: string, f: ListedFile, listedIn: string): Promise<void> {
  const actual = await hashFile(file);
  const mismatch = (what: string) =>
    new TransferError('CHECKSUM_MISMATCH', `${f.name} does not match ${listedIn}: ${what}`);
  if (actual.size !== f.size) throw mismatch(`expected ${f.size} bytes, it has ${actual.size}`);
  if (f.sha256 && actual.sha256 !== f.sha256) throw mismatch(`expected sha256 ${f.sha256}, it is ${actual.sha256}`);
  if (f.md5 && actual.md5 !== f.md5) throw mismatch(`expected md5 ${f.md5}, it is ${actual.md5}`);
}

async function verifyListed(dir: string, listed: ListedFile[], listedIn: string): Promise<void> {
  for (const f of listed) await compare(path.join(dir, f.name), f, listedIn);
}

/** Reads a .dsc or a binary .changes (clearsigned or not; its signature is not what is trusted here). */
async function readControlFile(file: string, what: 'dsc' | 'changes'): Promise<ListedFile[]> {
  const name = path.basename(file);
  const bytes = await readSmall(file, MAX_CONTROL_BYTES, name);
  let paragraph: Paragraph;
  try {
    paragraph = parseSingleParagraph(stripClearsign(new TextDecoder('utf-8', { fatal: true }).decode(bytes)), {
      source: name,
    });
  } catch (err) {
    throw malformed(`${name} is not a valid .${what}: ${(err as Error).message}`, err);
  }
  return listedFiles(paragraph, name).filter((f) => f.name !== name);
}

async function readSmall(file: string, max: number, name: string): Promise<Buffer> {
  let stat: fs.Stats;
  try {
    stat = await fsp.stat(file);
  } catch (err) {
    throw malformed(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, err);
  }
  if (!stat.isFile()) throw malformed(`${file} is not a file`);
  if (stat.size > max) throw malformed(`${name} is ${stat.size} bytes, more than such a file can be (${max})`);
  return fsp.readFile(file);
}

/**
 * Lists a tar and checks every member; returns the expected members by normalised name (no `./`),
 * each with the name as stored (what tar must be told to extract it). `allowed` says what a name may be.
 */
async function listMembers(
  tar: string,
  allowed: (name: string) => 'file' | 'directory' | null,
): Promise<Map<string, string>> {
  const tarName = path.basename(tar);
  const members = new Map<string, string>();
  const tarSize = (await fsp.stat(tar)).size;
  let declared = 0;
  const unsafe = (m: TarMember, why: string) =>
    new TransferError('UNSAFE_TAR', `${tarName}: member ${m.quotedName} ${why}`);
  const onMember = (m: TarMember) => {
    if (m.name.startsWith('/')) throw unsafe(m, 'has an absolute name');
    const parts = m.name.split('/').filter((c) => c !== '' && c !== '.');
    if (parts.includes('..')) throw unsafe(m, 'has a ".." component');
    if (m.type === 'symlink') throw unsafe(m, `is a symbolic link (to ${m.quotedLink})`);
    if (m.type === 'hardlink') throw unsafe(m, `is a hard link (to ${m.quotedLink})`);
    if (m.type !== 'file' && m.type !== 'directory')
      throw unsafe(m, `is a ${m.type ?? `tar type "${m.typeLetter}"`} member`);
    if (m.setuid || m.setgid) throw unsafe(m, `is ${m.setuid ? 'setuid' : 'setgid'} (${m.permissions})`);
    const name = parts.join('/');
    if (m.type === 'directory' && name === '') return;
    if (allowed(name) !== m.type)
      throw unsafe(m, `is not one of the ${m.type === 'directory' ? 'directories' : 'files'} a transfer holds`);
    if (members.has(name)) throw unsafe(m, 'is in the tar twice');
    declared += m.size;
    // An uncompressed tar holds every byte it declares: more is a sparse-file or compression bomb.
    if (declared > tarSize)
      throw unsafe(m, `makes the members declare more bytes (${declared}) than the tar has (${tarSize})`);
    members.set(name, m.name);
  };
  try {
    await listTarball(tar, onMember, { timeoutMs: TAR_TIMEOUT_MS });
  } catch (err) {
    if (err instanceof TarError) throw new TransferError('UNSAFE_TAR', `${tarName}: ${err.message}`, { cause: err });
    throw err;
  }
  return members;
}

/** Members must be exactly the expected ones: no stranger in the tar, nothing listed missing from it. */
async function checkMembersAgainst(
  tarName: string,
  members: Map<string, string>,
  expected: Set<string>,
  listed: ListedFile[],
  listedIn: string,
): Promise<void> {
  for (const name of members.keys())
    if (name !== CONFIG_DIR && !expected.has(name))
      throw new TransferError('UNSAFE_TAR', `${tarName}: member "${name}" is not listed in ${listedIn}`);
  for (const f of listed)
    if (!members.has(f.name)) throw malformed(`${tarName} lacks ${f.name}, which ${listedIn} lists`);
}

async function extract(tar: string, dest: string, stored: string[]): Promise<void> {
  if (stored.length === 0) return;
  const r = await execa(
    'tar',
    [
      '--extract',
      '--file',
      tar,
      '--force-local',
      '--directory',
      dest,
      '--no-same-owner',
      '--no-same-permissions',
      '--keep-old-files',
      '--no-wildcards',
      '--',
      ...stored,
    ],
    { env: TAR_ENV, extendEnv: false, stdin: 'ignore', reject: false, timeout: TAR_TIMEOUT_MS },
  );
  if (r.exitCode !== 0)
    throw new TransferError(
      'UNSAFE_TAR',
      `tar could not unpack ${path.basename(tar)}: ${String(r.stderr).trim().split('\n').slice(-3).join('; ') || `exit ${r.exitCode}`}`,
    );
}

/** Runs `work` on extractTo, made if needed and required empty; removes what it unpacked on failure. */
async function withDestination<T>(extractTo: string, work: (dest: string) => Promise<T>): Promise<T> {
  const dest = path.resolve(extractTo);
  await fsp.mkdir(dest, { recursive: true });
  if ((await fsp.readdir(dest)).length > 0) throw new Error(`${dest} is not empty`);
  try {
    return await work(dest);
  } catch (err) {
    await fsp.rm(dest, { recursive: true, force: true });
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------
// Sending

/**
 * Sends files to an instance's FTP incoming (`ftp://host:port/[dir]`; no dir means `/incoming`, where
 * mini-buildd takes uploads and which debyard's FTP server also accepts): anonymous, passive, binary,
 * .changes files last so the other side finds the files a .changes lists already there. Throws
 * TransferError UPLOAD_FAILED naming the URL and the file, also when the whole takes over timeoutMs.
 */
export async function ftpUpload(url: string, files: string[], timeoutMs = 60_000): Promise<void> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new TransferError('UPLOAD_FAILED', `cannot upload to "${url}": it is not a URL (give ftp://host:port/)`);
  }
  if (target.protocol !== 'ftp:')
    throw new TransferError('UPLOAD_FAILED', `cannot upload to ${url}: only ftp:// URLs are supported`);
  const dir = decodeURIComponent(target.pathname).replace(/\/+$/, '') || '/incoming';
  const ordered = [...files.filter((f) => !f.endsWith('.changes')), ...files.filter((f) => f.endsWith('.changes'))];
  const client = new FtpClient(timeoutMs);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    client.close();
  }, timeoutMs);
  let step = 'connecting';
  try {
    await client.access({
      host: target.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: target.port ? Number(target.port) : 21,
      user: 'anonymous',
      password: 'debyard@',
    });
    step = `changing to ${dir}`;
    await client.cd(dir);
    for (const file of ordered) {
      step = `sending ${path.basename(file)}`;
      await client.uploadFrom(file, path.basename(file));
    }
  } catch (err) {
    const why = timedOut ? `not done within ${timeoutMs / 1000} s` : describeFtpError(err);
    throw new TransferError('UPLOAD_FAILED', `upload to ${url} failed while ${step}: ${why}`, { cause: err });
  } finally {
    clearTimeout(timer);
    client.close();
  }
}

function describeFtpError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { code?: string | number };
  if (typeof e.code === 'number') return `the server answered ${e.code} ${e.message}`;
  return e.code ? `${e.code} (${e.message})` : e.message;
}

// ---------------------------------------------------------------------------------------------------

function withoutEpoch(version: string): string {
  return version.replace(/^\d+:/, '');
}

function isSafeName(name: string): boolean {
  try {
    checkFileName(name);
    return true;
  } catch {
    return false;
  }
}

function checkName(name: string, what: string): void {
  try {
    checkFileName(name);
  } catch (err) {
    if (err instanceof UnsafePathError) throw malformed(`${what}: ${err.message}`, err);
    throw err;
  }
}

function malformed(message: string, cause?: unknown): TransferError {
  return new TransferError('MALFORMED_TRANSFER', message, cause === undefined ? undefined : { cause });
}

async function mustExist(file: string, what: string): Promise<void> {
  try {
    const stat = await fsp.stat(file);
    if (!stat.isFile()) throw new Error('not a file');
  } catch (err) {
    throw malformed(
      `${what}, but ${file} is missing (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
    );
  }
}
