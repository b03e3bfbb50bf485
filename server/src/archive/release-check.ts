/**
 * Archive ping and Source check (mini-buildd's `Archive.mbd_ping` and `Source.mbd_check`): fetch a
 * source's Release from an archive, verify its signature, check that it is the release the source
 * names, and report what it offers.
 */
import { performance } from 'node:perf_hooks';
import type * as openpgp from 'openpgp';
import { Deb822Error, parseSingleParagraph, type Paragraph } from '../debian/deb822.js';
import { SignatureError, verifyClearsigned, verifyDetached, type Signer } from '../pgp/verify.js';
import { guessCodeversion } from './codeversion.js';

export type ArchiveErrorCode =
  | 'ARCHIVE_URL_INVALID'
  | 'IDENTIFIER_INVALID'
  | 'ARCHIVE_UNREACHABLE'
  | 'RELEASE_NOT_FOUND'
  | 'RELEASE_UNSIGNED'
  | 'SIGNATURE_INVALID'
  | 'ORIGIN_MISMATCH'
  | 'CODENAME_MISMATCH'
  | 'IDENTIFIER_MISMATCH'
  | 'RELEASE_EXPIRED'
  | 'RELEASE_MALFORMED';

export class ArchiveError extends Error {
  override readonly name = 'ArchiveError';
  constructor(
    readonly code: ArchiveErrorCode,
    message: string,
    options?: ErrorOptions & {
      /** The URL the problem is about. */
      url?: string;
      /** For SIGNATURE_INVALID and RELEASE_UNSIGNED: the verifier's code, e.g. UNKNOWN_KEY. */
      signatureCode?: SignatureError['code'];
    },
  ) {
    super(message, options);
    this.url = options?.url;
    this.signatureCode = options?.signatureCode;
  }
  readonly url?: string;
  readonly signatureCode?: SignatureError['code'];
}

export interface ReleaseInfo {
  origin: string;
  label?: string;
  suite?: string;
  codename: string;
  version?: string;
  date?: Date;
  validUntil?: Date;
  architectures: string[];
  components: string[];
  acquireByHash: boolean;
  signer: Signer;
}

export interface SourceCheck extends ReleaseInfo {
  /** See {@link guessCodeversion}: `12` for bookworm, `~SID` for sid. */
  codeversion: string;
  archiveUrl: string;
  /** The file that was verified: `…/InRelease`, or `…/Release` when it had to fall back. */
  releaseUrl: string;
  /** Time to fetch (not verify) the Release file(s). */
  fetchMs: number;
}

export interface CheckSourceOptions {
  /** Ends in exactly one `/`, e.g. `http://deb.debian.org/debian/`. */
  archiveUrl: string;
  /** The directory under dists/, e.g. `bookworm`, `bookworm-security`, `buster/updates`. */
  codename: string;
  /** Must equal the Release's Origin. */
  origin: string;
  /** More Release fields that must match exactly; `Codename` here replaces `codename` in that comparison. */
  extraIdentifiers?: Record<string, string>;
  keys: openpgp.PublicKey[];
  /** Default true: a Release whose Valid-Until has passed is refused (RELEASE_EXPIRED). */
  checkValidUntil?: boolean;
  /** Stripped from the start of component names, e.g. `updates/` on debian-security. */
  removeFromComponent?: string;
  /** For the whole check, all requests together; default 15 s. */
  timeoutMs?: number;
}

const DEFAULT_PING_TIMEOUT_MS = 10_000;
const DEFAULT_CHECK_TIMEOUT_MS = 15_000;
// Debian's largest InRelease is about 200 kB; anything far beyond is not a Release file.
const MAX_RELEASE_BYTES = 32 * 1024 * 1024;
// Tolerates a mirror whose clock runs a little ahead: its fresh signature is not "in the future".
const CLOCK_SKEW_MS = 10 * 60 * 1000;

function checkArchiveUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new ArchiveError('ARCHIVE_URL_INVALID', `${JSON.stringify(url)} is not a URL`, { url });
  }
  if (!['http:', 'https:'].includes(parsed.protocol) || !url.endsWith('/') || url.endsWith('//')) {
    throw new ArchiveError(
      'ARCHIVE_URL_INVALID',
      `archive URL ${url} must be http(s) and end in exactly one "/", e.g. http://deb.debian.org/debian/`,
      { url },
    );
  }
}

function unreachable(url: string, err: unknown, timeoutMs: number): ArchiveError {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  let reason = e.cause?.message ?? e.cause?.code ?? e.message;
  if (e.name === 'TimeoutError' || e.name === 'AbortError') reason = `no answer within ${timeoutMs} ms`;
  // undici refuses the Fetch standard's blocked ports (1, 21, 25, 6000, 10080, …) before connecting
  else if (reason === 'bad port') reason = `fetch() refuses to connect to port ${new URL(url).port} (a blocked port)`;
  return new ArchiveError('ARCHIVE_UNREACHABLE', `archive ${url} is unreachable: ${reason}`, { url, cause: err });
}

async function get(url: string, signal: AbortSignal, timeoutMs: number): Promise<Response> {
  try {
    return await fetch(url, { signal, redirect: 'follow' });
  } catch (err) {
    throw unreachable(url, err, timeoutMs);
  }
}

async function readCapped(res: Response, url: string, timeoutMs: number): Promise<Uint8Array> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > MAX_RELEASE_BYTES) {
    await res.body?.cancel();
    throw new ArchiveError('RELEASE_MALFORMED', `${url} is ${declared} bytes, too large for a Release file`, { url });
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body ?? []) {
      size += chunk.length;
      if (size > MAX_RELEASE_BYTES) {
        await res.body?.cancel().catch(() => {});
        throw new ArchiveError('RELEASE_MALFORMED', `${url} is larger than ${MAX_RELEASE_BYTES} bytes`, { url });
      }
      chunks.push(chunk);
    }
  } catch (err) {
    if (err instanceof ArchiveError) throw err;
    throw unreachable(url, err, timeoutMs);
  }
  return Buffer.concat(chunks);
}

/**
 * Pings an archive: GET `<url>dists/`, as mini-buildd does. Any answer below 500 counts (mirrors
 * often answer 403 or 404 for directory listings); network errors, timeouts and 5xx throw
 * ARCHIVE_UNREACHABLE.
 */
export async function pingArchive(url: string, opts: { timeoutMs?: number } = {}): Promise<{ ms: number }> {
  checkArchiveUrl(url);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_PING_TIMEOUT_MS;
  const started = performance.now();
  const res = await get(`${url}dists/`, AbortSignal.timeout(timeoutMs), timeoutMs);
  await res.body?.cancel().catch(() => {});
  if (res.status >= 500) {
    throw new ArchiveError('ARCHIVE_UNREACHABLE', `archive ${url} answers ${res.status} ${res.statusText}`, { url });
  }
  return { ms: Math.round((performance.now() - started) * 10) / 10 };
}

function parseDate(release: Paragraph, field: string, url: string): Date | undefined {
  const raw = release.get(field);
  if (raw === undefined) return undefined;
  const date = new Date(raw);
  if (Number.isNaN(date.getTime())) {
    throw new ArchiveError('RELEASE_MALFORMED', `${url}: ${field} ${JSON.stringify(raw)} is not a date`, { url });
  }
  return date;
}

function words(release: Paragraph, field: string, url: string): string[] {
  const value = release.get(field);
  if (value === undefined || value.trim() === '') {
    throw new ArchiveError('RELEASE_MALFORMED', `${url} has no ${field} field`, { url });
  }
  return value.split(/\s+/).filter(Boolean);
}

function signatureFailure(url: string, err: unknown): never {
  if (err instanceof SignatureError) {
    const unsigned = err.code === 'NOT_SIGNED';
    throw new ArchiveError(
      unsigned ? 'RELEASE_UNSIGNED' : 'SIGNATURE_INVALID',
      unsigned ? `${url} is not signed` : `${url}: ${err.message}`,
      { url, cause: err, signatureCode: err.code },
    );
  }
  throw err;
}

/** Fetches `dists/<codename>/InRelease`, or `Release` and `Release.gpg`; returns the verified text. */
async function fetchVerified(
  opts: CheckSourceOptions,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<{ text: string; signer: Signer; releaseUrl: string; fetchMs: number }> {
  const dist = `${opts.archiveUrl}dists/${opts.codename}/`;
  const verifyAt = { date: new Date(Date.now() + CLOCK_SKEW_MS) };
  const decode = (bytes: Uint8Array, url: string) => {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw new ArchiveError('RELEASE_MALFORMED', `${url} is not UTF-8 text`, { url });
    }
  };
  const started = performance.now();
  const inReleaseUrl = `${dist}InRelease`;
  const inRelease = await get(inReleaseUrl, signal, timeoutMs);
  if (inRelease.ok) {
    const body = decode(await readCapped(inRelease, inReleaseUrl, timeoutMs), inReleaseUrl);
    const fetchMs = performance.now() - started;
    try {
      const v = await verifyClearsigned(body, opts.keys, { ...verifyAt, source: inReleaseUrl });
      return { text: v.text, signer: v.signer, releaseUrl: inReleaseUrl, fetchMs };
    } catch (err) {
      signatureFailure(inReleaseUrl, err);
    }
  }
  await inRelease.body?.cancel().catch(() => {});
  if (inRelease.status >= 500) {
    throw new ArchiveError('ARCHIVE_UNREACHABLE', `${inReleaseUrl} answers ${inRelease.status}`, {
      url: inReleaseUrl,
    });
  }

  const releaseUrl = `${dist}Release`;
  const release = await get(releaseUrl, signal, timeoutMs);
  if (!release.ok) {
    await release.body?.cancel().catch(() => {});
    throw new ArchiveError(
      release.status >= 500 ? 'ARCHIVE_UNREACHABLE' : 'RELEASE_NOT_FOUND',
      `no Release for ${opts.codename} on ${opts.archiveUrl}: ${inReleaseUrl} answers ${inRelease.status}, ` +
        `${releaseUrl} answers ${release.status}`,
      { url: inReleaseUrl },
    );
  }
  const releaseBytes = await readCapped(release, releaseUrl, timeoutMs);
  const gpgUrl = `${releaseUrl}.gpg`;
  const gpg = await get(gpgUrl, signal, timeoutMs);
  if (!gpg.ok) {
    await gpg.body?.cancel().catch(() => {});
    throw new ArchiveError('RELEASE_UNSIGNED', `${releaseUrl} has no InRelease and no Release.gpg (${gpg.status})`, {
      url: gpgUrl,
    });
  }
  const signature = await readCapped(gpg, gpgUrl, timeoutMs);
  const fetchMs = performance.now() - started;
  const text = decode(releaseBytes, releaseUrl);
  try {
    const v = await verifyDetached(releaseBytes, signature, opts.keys, { ...verifyAt, source: gpgUrl });
    return { text, signer: v.signer, releaseUrl, fetchMs };
  } catch (err) {
    signatureFailure(gpgUrl, err);
  }
}

/**
 * The verified text of `dists/<codename>/InRelease` (or Release with Release.gpg) on one archive, for
 * reading the checksums of its indices; no other check. Throws {@link ArchiveError}.
 */
export async function fetchRelease(
  opts: Pick<CheckSourceOptions, 'archiveUrl' | 'codename' | 'keys' | 'timeoutMs'>,
): Promise<{ text: string; releaseUrl: string }> {
  checkArchiveUrl(opts.archiveUrl);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const { text, releaseUrl } = await fetchVerified({ ...opts, origin: '' }, AbortSignal.timeout(timeoutMs), timeoutMs);
  return { text, releaseUrl };
}

/**
 * Checks a source on one archive: its Release must be signed by one of `keys`, have the given
 * Origin and Codename (and extra identifiers), and not be past Valid-Until. Throws
 * {@link ArchiveError}; returns what the Release offers and the code version.
 */
export async function checkSource(opts: CheckSourceOptions): Promise<SourceCheck> {
  checkArchiveUrl(opts.archiveUrl);
  const extra = opts.extraIdentifiers ?? {};
  if (Object.keys(extra).some((k) => k.toLowerCase() === 'origin')) {
    throw new ArchiveError('IDENTIFIER_INVALID', 'extra identifiers must not contain Origin: it is the source’s own');
  }
  if (!/^[a-z0-9][a-z0-9.+_/-]*$/i.test(opts.codename) || opts.codename.split('/').includes('..')) {
    throw new ArchiveError('IDENTIFIER_INVALID', `codename ${JSON.stringify(opts.codename)} is not a dists/ directory`);
  }
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const { text, signer, releaseUrl, fetchMs } = await fetchVerified(opts, AbortSignal.timeout(timeoutMs), timeoutMs);

  let release: Paragraph;
  try {
    release = parseSingleParagraph(text, { source: releaseUrl });
  } catch (err) {
    if (!(err instanceof Deb822Error)) throw err;
    throw new ArchiveError('RELEASE_MALFORMED', err.message, { url: releaseUrl, cause: err });
  }

  const origin = release.get('Origin');
  if (origin !== opts.origin) {
    throw new ArchiveError(
      'ORIGIN_MISMATCH',
      `${releaseUrl} has Origin ${JSON.stringify(origin ?? '(none)')}, the source expects ${JSON.stringify(opts.origin)}`,
      { url: releaseUrl },
    );
  }
  const expectedCodename = Object.entries(extra).find(([k]) => k.toLowerCase() === 'codename')?.[1] ?? opts.codename;
  const codename = release.get('Codename');
  if (codename !== expectedCodename) {
    throw new ArchiveError(
      'CODENAME_MISMATCH',
      `${releaseUrl} has Codename ${JSON.stringify(codename ?? '(none)')}, expected ${JSON.stringify(expectedCodename)}` +
        (release.get('Suite') === expectedCodename ? ' (that is its Suite: name the codename, not the suite)' : ''),
      { url: releaseUrl },
    );
  }
  for (const [field, want] of Object.entries(extra)) {
    const got = release.get(field);
    if (got !== want) {
      throw new ArchiveError(
        'IDENTIFIER_MISMATCH',
        `${releaseUrl} has ${field} ${JSON.stringify(got ?? '(none)')}, expected ${JSON.stringify(want)}`,
        { url: releaseUrl },
      );
    }
  }

  const date = parseDate(release, 'Date', releaseUrl);
  const validUntil = parseDate(release, 'Valid-Until', releaseUrl);
  if (validUntil && opts.checkValidUntil !== false && validUntil.getTime() < Date.now()) {
    throw new ArchiveError(
      'RELEASE_EXPIRED',
      `${releaseUrl} expired at ${validUntil.toISOString()} (Valid-Until): the mirror is out of date; ` +
        'use a current mirror, or turn off checkValidUntil for a frozen or archived release',
      { url: releaseUrl },
    );
  }

  const prefix = opts.removeFromComponent ?? '';
  const components = words(release, 'Components', releaseUrl).map((c) =>
    prefix && c.startsWith(prefix) ? c.slice(prefix.length) : c,
  );
  const version = release.get('Version') || undefined;
  return {
    origin,
    label: release.get('Label'),
    suite: release.get('Suite'),
    codename,
    version,
    date,
    validUntil,
    architectures: words(release, 'Architectures', releaseUrl),
    components,
    acquireByHash: release.get('Acquire-By-Hash')?.toLowerCase() === 'yes',
    signer,
    codeversion: guessCodeversion(origin, version, codename),
    archiveUrl: opts.archiveUrl,
    releaseUrl,
    fetchMs: Math.round(fetchMs * 10) / 10,
  };
}
