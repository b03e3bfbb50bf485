/**
 * Fetching a source package (.dsc plus the files it lists) from a URL or a local path into a build's
 * source directory, verified against the .dsc's `Checksums-Sha256`.
 *
 * The signature of a clearsigned .dsc is not checked here (the upload's .changes was, and a test build
 * from a URL is an administrator's choice); its armor is only stripped so the body can be parsed.
 * Every name in the .dsc comes from outside and goes through checkFileName. On any failure the
 * destination directory is removed, so a half-fetched source never lies around.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Deb822Error, parseSingleParagraph, type Paragraph } from '../debian/deb822.js';
import { DomainError } from '../graphql/errors.js';
import { checkFileName, UnsafePathError } from '../util/paths.js';

export interface FetchedSource {
  /** The .dsc in destDir. */
  dsc: string;
  source: string;
  version: string;
  /** The .dsc's `Architecture` field, e.g. `["any", "all"]`. */
  architectures: string[];
}

export interface FetchSourceOptions {
  /** Per HTTP request, covering the whole body; default 5 minutes. */
  timeoutMs?: number;
}

/** A .dsc larger than this is not a .dsc. */
const MAX_DSC_BYTES = 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 5 * 60 * 1000;

interface Listed {
  name: string;
  size: number;
  sha256: string;
}

/**
 * Copies (absolute path) or downloads (http/https URL) a .dsc and every file of its
 * `Checksums-Sha256` into `destDir`, which must not exist or be empty. Throws a DomainError
 * (DSC_NOT_FOUND, DSC_INVALID, SOURCE_FILE_MISSING, CHECKSUM_MISMATCH) and removes destDir on failure.
 */
export async function fetchSource(
  from: string,
  destDir: string,
  opts: FetchSourceOptions = {},
): Promise<FetchedSource> {
  const origin = originOf(from);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  await fsp.mkdir(destDir, { recursive: true });
  if ((await fsp.readdir(destDir)).length > 0) throw new Error(`${destDir} is not empty`);
  try {
    const bytes = await readDsc(origin, timeoutMs);
    const paragraph = parseDsc(bytes, origin.name);
    const source = required(paragraph, 'Source', origin.name);
    const version = required(paragraph, 'Version', origin.name);
    const architectures = required(paragraph, 'Architecture', origin.name).split(/\s+/);
    required(paragraph, 'Format', origin.name);
    const listed = parseChecksums(paragraph, origin.name);

    for (const file of listed) {
      await copyListed(origin, file, path.join(destDir, file.name), timeoutMs);
    }
    const dsc = path.join(destDir, origin.name);
    await fsp.writeFile(dsc, bytes, { flag: 'wx' });
    return { dsc, source, version, architectures };
  } catch (err) {
    await fsp.rm(destDir, { recursive: true, force: true });
    throw err;
  }
}

type Origin = { kind: 'url'; url: URL; name: string } | { kind: 'file'; path: string; name: string };

function originOf(from: string): Origin {
  let origin: Origin;
  if (/^https?:\/\//i.test(from)) {
    let url: URL;
    try {
      url = new URL(from);
    } catch {
      throw new DomainError('DSC_NOT_FOUND', `"${from}" is not a valid URL`);
    }
    origin = { kind: 'url', url, name: decodeURIComponent(url.pathname.split('/').pop() ?? '') };
  } else if (path.isAbsolute(from)) {
    origin = { kind: 'file', path: path.normalize(from), name: path.basename(from) };
  } else {
    throw new DomainError('DSC_NOT_FOUND', `"${from}" is neither an http(s) URL nor an absolute path of a .dsc`);
  }
  checkName(origin.name, `the .dsc name in "${from}"`);
  if (!origin.name.endsWith('.dsc')) throw new DomainError('DSC_INVALID', `"${origin.name}" is not a .dsc file name`);
  return origin;
}

function checkName(name: string, what: string): void {
  try {
    checkFileName(name);
  } catch (err) {
    if (err instanceof UnsafePathError) throw new DomainError('DSC_INVALID', `${what}: ${err.message}`);
    throw err;
  }
}

function where(origin: Origin, name: string): string {
  return origin.kind === 'url' ? new URL(name, origin.url).href : path.join(path.dirname(origin.path), name);
}

async function readDsc(origin: Origin, timeoutMs: number): Promise<Buffer> {
  if (origin.kind === 'file') {
    try {
      const stat = await fsp.stat(origin.path);
      if (!stat.isFile()) throw new DomainError('DSC_NOT_FOUND', `${origin.path} is not a file`);
      if (stat.size > MAX_DSC_BYTES) throw new DomainError('DSC_INVALID', `${origin.path} is too large for a .dsc`);
      return await fsp.readFile(origin.path);
    } catch (err) {
      if (err instanceof DomainError) throw err;
      throw new DomainError('DSC_NOT_FOUND', `cannot read ${origin.path}: ${(err as Error).message}`);
    }
  }
  const response = await get(origin.url, timeoutMs, (message) => new DomainError('DSC_NOT_FOUND', message));
  const body = Buffer.from(await response.arrayBuffer());
  if (body.length > MAX_DSC_BYTES) throw new DomainError('DSC_INVALID', `${origin.url.href} is too large for a .dsc`);
  return body;
}

async function get(url: URL, timeoutMs: number, fail: (message: string) => DomainError): Promise<Response> {
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const cause = (err as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs / 1000} s` : describe(err);
    throw fail(`could not fetch ${url.href}: ${cause}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw fail(`GET ${url.href} answered ${response.status} ${response.statusText}`.trim());
  }
  return response;
}

function describe(err: unknown): string {
  const cause = (err as { cause?: { message?: string } }).cause?.message;
  return cause ?? (err as Error).message;
}

const BEGIN_SIGNED = '-----BEGIN PGP SIGNED MESSAGE-----';
const BEGIN_SIGNATURE = '-----BEGIN PGP SIGNATURE-----';

/**
 * The body of a clearsigned text (RFC 4880 §7): after the armor headers up to the signature block,
 * with dash-escaping undone. Unsigned text is returned as it is.
 */
export function stripClearsign(text: string): string {
  if (!text.startsWith(BEGIN_SIGNED)) return text;
  const lines = text.split('\n');
  const bodyStart = lines.indexOf('', 1);
  const signature = lines.indexOf(BEGIN_SIGNATURE);
  if (bodyStart < 0 || signature < bodyStart) throw new Error('the clearsigned text has no complete signature block');
  return (
    lines
      .slice(bodyStart + 1, signature)
      .map((l) => (l.startsWith('- ') ? l.slice(2) : l))
      .join('\n') + '\n'
  );
}

function parseDsc(bytes: Buffer, name: string): Paragraph {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    if (!text.startsWith(BEGIN_SIGNED) && text.includes(BEGIN_SIGNED)) {
      throw new Error('text before the signed part');
    }
    return parseSingleParagraph(stripClearsign(text), { source: name });
  } catch (err) {
    const message = err instanceof Deb822Error ? err.message : `${name}: ${(err as Error).message}`;
    throw new DomainError('DSC_INVALID', `not a valid .dsc: ${message}`);
  }
}

function required(paragraph: Paragraph, field: string, name: string): string {
  const value = paragraph.get(field)?.trim();
  if (!value) throw new DomainError('DSC_INVALID', `${name} has no ${field} field`);
  return value;
}

function parseChecksums(paragraph: Paragraph, name: string): Listed[] {
  required(paragraph, 'Checksums-Sha256', name);
  const listed: Listed[] = [];
  for (const line of paragraph.lines('Checksums-Sha256')) {
    const m = /^\s*([0-9a-fA-F]{64})\s+(\d+)\s+(\S+)\s*$/.exec(line);
    if (!m) throw new DomainError('DSC_INVALID', `${name}: malformed Checksums-Sha256 line "${line.trim()}"`);
    const file = { sha256: m[1]!.toLowerCase(), size: Number(m[2]), name: m[3]! };
    checkName(file.name, `${name} lists an unsafe file name`);
    if (file.name === name || listed.some((l) => l.name === file.name)) {
      throw new DomainError('DSC_INVALID', `${name} lists ${file.name} twice`);
    }
    listed.push(file);
  }
  if (listed.length === 0) throw new DomainError('DSC_INVALID', `${name} has an empty Checksums-Sha256 field`);
  return listed;
}

async function copyListed(origin: Origin, file: Listed, dest: string, timeoutMs: number): Promise<void> {
  const from = where(origin, file.name);
  let input: Readable;
  if (origin.kind === 'file') {
    try {
      await fsp.access(from, fs.constants.R_OK);
    } catch (err) {
      throw new DomainError(
        'SOURCE_FILE_MISSING',
        `${file.name}, listed in ${origin.name}, was not found at ${from}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    input = fs.createReadStream(from);
  } else {
    const missing = (message: string) =>
      new DomainError('SOURCE_FILE_MISSING', `${file.name}, listed in ${origin.name}: ${message}`);
    const response = await get(new URL(from), timeoutMs, missing);
    if (!response.body) throw missing(`GET ${from} returned no body`);
    input = Readable.fromWeb(response.body as import('node:stream/web').ReadableStream);
  }

  const hash = createHash('sha256');
  let size = 0;
  const mismatch = (what: string) =>
    new DomainError('CHECKSUM_MISMATCH', `${file.name} (from ${from}) does not match ${origin.name}: ${what}`);
  await pipeline(
    input,
    async function* (chunks: AsyncIterable<Buffer>) {
      for await (const chunk of chunks) {
        size += chunk.length;
        // Stop early rather than fill the disk with something that cannot match.
        if (size > file.size) throw mismatch(`expected ${file.size} bytes, got more`);
        hash.update(chunk);
        yield chunk;
      }
    },
    fs.createWriteStream(dest, { flags: 'wx' }),
  );
  if (size !== file.size) throw mismatch(`expected ${file.size} bytes, got ${size}`);
  const actual = hash.digest('hex');
  if (actual !== file.sha256) throw mismatch(`expected sha256 ${file.sha256}, got ${actual}`);
}
