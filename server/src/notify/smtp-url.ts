import { FieldError } from '../lifecycle/config-kind.js';

/** What the console and CLI show instead of a password; sending it back keeps the stored one. */
export const REDACTED = '***';

/**
 * Checks an SMTP smarthost URL: `smtp://[user[:password]@]host[:port]` (STARTTLS when the server offers
 * it) or `smtps://…` (TLS from the first byte). Empty means mail is off. Throws a FieldError naming what
 * is wrong.
 */
export function parseSmtpUrl(field: string, value: unknown): string {
  if (typeof value !== 'string') throw new FieldError(field, `expected a URL as text, got ${JSON.stringify(value)}`);
  const s = value.trim();
  if (!s) return '';
  const hint = 'expected smtp://[user[:password]@]host[:port] or smtps://…, e.g. smtp://mail.example.org:25';
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new FieldError(field, `"${redactSmtpUrl(s)}" is not a URL; ${hint}`);
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:')
    throw new FieldError(field, `the scheme must be smtp or smtps, not "${url.protocol.replace(/:$/, '')}"; ${hint}`);
  if (!url.hostname) throw new FieldError(field, `the URL names no host; ${hint}`);
  if ((url.pathname && url.pathname !== '/') || url.search || url.hash)
    throw new FieldError(field, `the URL must end after host[:port] (no path, query or fragment); ${hint}`);
  if (url.password && !url.username) throw new FieldError(field, `a password needs a user name; ${hint}`);
  return s.replace(/\/$/, '');
}

/** The URL with its password replaced by ***, for everything shown to people or logged. */
export function redactSmtpUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, `$1:${REDACTED}@`);
}

/**
 * The value to store when `next` comes back from a form or `config … edit`: a redacted password means
 * "keep the one stored", as long as the scheme, user, host and port are the stored ones.
 */
export function mergeSmtpUrl(stored: string, next: string): string {
  if (!next.includes(`:${REDACTED}@`)) return next;
  const storedPassword = PASSWORD.exec(stored)?.[1];
  if (storedPassword === undefined || redactSmtpUrl(stored) !== next)
    throw new FieldError(
      'smtpUrl',
      `"${REDACTED}" stands for the stored password of the same server and user; give the password for a new one`,
    );
  return stored;
}

const PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^:/@]*:([^@/]*)@/i;
