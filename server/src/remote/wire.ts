/**
 * mini-buildd 2.x's remotes protocol (reference/mini-buildd.md §1.2, §5.3), both ways: the JSON of its
 * `status` and `pub_key` API calls and its `handshake`, at `GET /mini_buildd/api/<call>/?<arg>=<value>`,
 * errors as RFC 7807 problem+json. debyard adds `builds` and `packages` to `status` (mini-buildd
 * ignores fields it does not know) and a nonce to the handshake text (see signHandshake).
 */
import crypto from 'node:crypto';
import type * as openpgp from 'openpgp';
import { SignatureError, verifyClearsigned, type VerifiedText } from '../pgp/verify.js';

export const API_PATH = '/mini_buildd/api';
export const HANDSHAKE_TEXT = 'Hand Shake';
/** A handshake signed longer ago than this (or this far in the future) is refused: a replay, or a clock far off. */
export const HANDSHAKE_MAX_AGE_MS = 10 * 60_000;

export type RemoteErrorCode =
  | 'REMOTE_UNREACHABLE'
  | 'REMOTE_UNAVAILABLE'
  | 'NOT_AN_INSTANCE'
  | 'REMOTE_KEY_MISMATCH'
  | 'REMOTE_DOES_NOT_LIST_US'
  | 'REMOTE_STOPPED'
  | 'HANDSHAKE_REFUSED';

/** Why talking to another instance failed; `code` becomes the check's `extensions.reason`. */
export class RemoteError extends Error {
  override readonly name = 'RemoteError';
  constructor(
    readonly code: RemoteErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** What an instance's `status` says, in our names. */
export interface InstanceStatus {
  version: string;
  identity: string;
  url: string;
  incomingUrl: string;
  /** Busy slots / slots; -1 when its engine is stopped. */
  load: number;
  /** Active chroots, `codename:arch`. */
  chroots: string[];
  /** URLs of the remotes it builds with (active or auto-reactivate). */
  remotes: string[];
  /** debyard only: builds queued or running, uploads being packaged. */
  builds: number | null;
  packages: number | null;
}

/**
 * A remote's URL as it is kept and compared: `http(s)://host[:port]`, host in lower case, no path,
 * query or credentials. Throws an Error naming what is wrong.
 */
export function normalizeRemoteUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw new Error(`"${value}" is not a URL: give http(s)://host:port, e.g. http://grover:8066`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new Error(`"${value}" is not http or https: give http(s)://host:port, e.g. http://grover:8066`);
  if (url.username || url.password) throw new Error(`"${value}" holds credentials: give http(s)://host:port only`);
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash)
    throw new Error(`"${value}" has a path or query: give http(s)://host:port only, e.g. http://grover:8066`);
  return `${url.protocol}//${url.host}`;
}

/** Our status in mini-buildd's wire format (snake_case, `load` rounded to 2 places as it does). */
export function statusToWire(s: InstanceStatus): Record<string, unknown> {
  return {
    version: s.version,
    identity: s.identity,
    url: s.url,
    incoming_url: s.incomingUrl,
    load: Math.round(s.load * 100) / 100,
    chroots: s.chroots,
    remotes: s.remotes,
    builds: s.builds,
    packages: s.packages,
  };
}

/** Reads another instance's `status` answer; anything else is NOT_AN_INSTANCE, naming the URL. */
export function parseStatus(body: unknown, url: string): InstanceStatus {
  const o = body as Record<string, unknown> | null;
  const strings = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');
  const count = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : null);
  if (
    !o ||
    typeof o !== 'object' ||
    Array.isArray(o) ||
    typeof o.identity !== 'string' ||
    !o.identity ||
    typeof o.version !== 'string' ||
    typeof o.load !== 'number' ||
    !strings(o.chroots) ||
    !strings(o.remotes)
  )
    throw new RemoteError(
      'NOT_AN_INSTANCE',
      `${url} is not a debyard or mini-buildd instance: its status has no identity, version, load, chroots and remotes`,
    );
  return {
    version: o.version,
    identity: o.identity,
    url: typeof o.url === 'string' ? o.url : url,
    incomingUrl: typeof o.incoming_url === 'string' ? o.incoming_url : '',
    load: o.load,
    chroots: o.chroots as string[],
    remotes: o.remotes as string[],
    builds: count(o.builds),
    packages: count(o.packages),
  };
}

/** An RFC 7807 problem, as mini-buildd's API answers errors. */
export function problem(status: number, title: string, detail: string): Record<string, unknown> {
  return { type: 'about:blank', status, title, detail, instance: 'about:blank' };
}

/**
 * The text we sign to start a handshake: mini-buildd's "Hand Shake" and a nonce. The other side signs
 * the same text back (mini-buildd signs a fixed "Hand Shake"), so an answer recorded earlier cannot be
 * replayed at us.
 */
export function handshakeChallenge(): string {
  return `${HANDSHAKE_TEXT} ${crypto.randomBytes(16).toString('hex')}`;
}

function checkFresh(v: VerifiedText, now: Date, who: string): void {
  if (Math.abs(now.getTime() - v.signedAt.getTime()) > HANDSHAKE_MAX_AGE_MS)
    throw new SignatureError(
      'EXPIRED_SIGNATURE',
      `${who}: the handshake was signed at ${v.signedAt.toISOString()}, more than ${HANDSHAKE_MAX_AGE_MS / 60_000} minutes from now (a replay, or a clock that is off)`,
    );
}

/**
 * The answering side: verifies a handshake against the keys of our remotes and returns the text to
 * sign back. Throws SignatureError (UNKNOWN_KEY when no remote's key made it).
 */
export async function verifyHandshakeRequest(
  signed: string,
  remoteKeys: openpgp.PublicKey[],
  now = new Date(),
): Promise<string> {
  const v = await verifyClearsigned(signed, remoteKeys, { source: 'handshake', date: now });
  const text = v.text.replace(/\n$/, '');
  if (text !== HANDSHAKE_TEXT && !/^Hand Shake [0-9a-f]{32}$/.test(text))
    throw new SignatureError('MALFORMED_SIGNATURE', `handshake: the signed text is not "${HANDSHAKE_TEXT}"`);
  checkFresh(v, now, 'handshake');
  return text;
}

/**
 * The asking side: the answer must be signed by the key we hold for the remote, over the text we sent
 * (or mini-buildd's fixed "Hand Shake", then signed just now). Throws RemoteError REMOTE_KEY_MISMATCH.
 */
export async function verifyHandshakeReply(
  reply: string,
  sent: string,
  remoteKey: openpgp.PublicKey,
  url: string,
  now = new Date(),
): Promise<void> {
  try {
    const v = await verifyClearsigned(reply, [remoteKey], { source: `${url}'s handshake`, date: now });
    const text = v.text.replace(/\n$/, '');
    if (text !== sent && text !== HANDSHAKE_TEXT)
      throw new SignatureError('BAD_SIGNATURE', `${url} signed "${text.slice(0, 80)}", not our handshake`);
    checkFresh(v, now, `${url}'s handshake`);
  } catch (err) {
    if (!(err instanceof SignatureError)) throw err;
    throw new RemoteError(
      'REMOTE_KEY_MISMATCH',
      `${url} did not answer the handshake with the key we hold for it (${remoteKey.getFingerprint().toUpperCase()}): ${err.message}; if it has a new key, remove the remote and add it again`,
      { cause: err },
    );
  }
}

/** GET /mini_buildd/api/<call>/ of another instance, with its answers and failures as RemoteErrors. */
export class RemoteClient {
  constructor(
    readonly url: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async status(): Promise<InstanceStatus> {
    return parseStatus(await this.call('status', {}), this.url);
  }

  async pubKey(): Promise<string> {
    const key = await this.call('pub_key', {});
    if (typeof key !== 'string' || !key.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----'))
      throw new RemoteError(
        'NOT_AN_INSTANCE',
        `${this.url} is not a debyard or mini-buildd instance: pub_key gave no key`,
      );
    return key;
  }

  /** Sends our signed handshake; returns the other side's signed answer. */
  async handshake(signed: string): Promise<string> {
    const answer = await this.call('handshake', { signed_message: signed });
    if (typeof answer !== 'string')
      throw new RemoteError('NOT_AN_INSTANCE', `${this.url} answered the handshake with something not signed`);
    return answer;
  }

  private async call(name: string, args: Record<string, string>): Promise<unknown> {
    const target = `${this.url}${API_PATH}/${name}/?${new URLSearchParams(args)}`;
    let res: Response;
    try {
      res = await fetch(target, { signal: AbortSignal.timeout(this.timeoutMs), redirect: 'error' });
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why =
        (err as Error).name === 'TimeoutError'
          ? `no answer within ${this.timeoutMs / 1000} s`
          : (cause?.code ?? cause?.message ?? (err as Error).message);
      throw new RemoteError('REMOTE_UNREACHABLE', `cannot reach ${this.url}: ${why}`, { cause: err });
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new RemoteError(
        'NOT_AN_INSTANCE',
        `${this.url} is not a debyard or mini-buildd instance: ${API_PATH}/${name}/ answered HTTP ${res.status} without JSON`,
      );
    }
    if (res.ok) return body;
    const detail = (body as { detail?: unknown } | null)?.detail;
    const said = typeof detail === 'string' ? detail : `HTTP ${res.status}`;
    if (res.status === 503) throw new RemoteError('REMOTE_UNAVAILABLE', `${this.url} is unavailable: ${said}`);
    if (name === 'handshake' && res.status === 401)
      throw new RemoteError('REMOTE_DOES_NOT_LIST_US', `${this.url} does not list us as a remote: ${said}`);
    if (name === 'handshake') throw new RemoteError('HANDSHAKE_REFUSED', `${this.url} refused our handshake: ${said}`);
    throw new RemoteError(
      'NOT_AN_INSTANCE',
      `${this.url} is not a debyard or mini-buildd instance: ${API_PATH}/${name}/ answered ${said}`,
    );
  }
}
