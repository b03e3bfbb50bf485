/**
 * What a notification says and to whom: pure functions over an event and the configuration, so the
 * rules are tested without a database or a mail server (mini-buildd's `mini_buildd/mail.py`).
 */

/**
 * The event types that send mail: an upload's end (REJECTED, INSTALLED, FAILED), a port that could
 * not be made, a migration debyard made by itself that failed, a configuration object that failed its
 * check, the staging moves (MIGRATED, REMOVED) and a sign-up (for the staff only, below). Progress (PACKAGING, BUILD_*) and audit
 * events do not: they would bury the ones that need a person. MAIL_FAILED never does (no loop).
 */
export const MAILED_EVENTS: ReadonlySet<string> = new Set([
  'REJECTED',
  'INSTALLED',
  'FAILED',
  'PORT_FAILED',
  'MIGRATION_FAILED',
  'CONFIG_FAILED',
  'MIGRATED',
  'REMOVED',
  'USER_SIGNED_UP',
]);

/**
 * The mailed events that are the staff's business (a sign-up waits for their approval): they go to the
 * daemon's notify addresses and to subscribers who are staff, never to a repository's addresses, an
 * upload's people or other subscribers (audit events are hidden from them everywhere else too).
 */
export const STAFF_MAILED_EVENTS: ReadonlySet<string> = new Set(['USER_SIGNED_UP']);

export interface MailEvent {
  id: string;
  type: string;
  summary: string;
  createdAt: Date;
  payload: Record<string, unknown>;
}

export interface SubscriptionFilter {
  /** Null: every source (and events about no source). */
  source: string | null;
  distribution: string | null;
}

/** Whether a subscription covers the event: each filter it sets must equal the event's value. */
export function subscriptionMatches(sub: SubscriptionFilter, event: MailEvent): boolean {
  const source = text(event.payload.source);
  const distribution = text(event.payload.distribution);
  return (
    (sub.source === null || sub.source === source) && (sub.distribution === null || sub.distribution === distribution)
  );
}

export interface RecipientRules {
  /** E-mail addresses of the users whose subscriptions match. */
  subscribers: string[];
  repositoryAddresses: string[];
  daemonAddresses: string[];
  /** The upload's Changed-By and Maintainer ("Name <address>"), when there is an upload. */
  changedBy: string | null;
  maintainer: string | null;
  notifyChangedBy: boolean;
  notifyMaintainer: boolean;
  /** Changed-By and Maintainer get mail only when their address matches this (whole) pattern. */
  allowEmailsTo: string;
}

/** Everybody who gets the mail, each address once (compared without case), in a stable order. */
export function recipients(r: RecipientRules): string[] {
  const people: (string | null)[] = [...r.subscribers, ...r.repositoryAddresses, ...r.daemonAddresses];
  const allowed = allowPattern(r.allowEmailsTo);
  for (const [wanted, who] of [
    [r.notifyChangedBy, r.changedBy],
    [r.notifyMaintainer, r.maintainer],
  ] as const) {
    const address = who ? addressOf(who) : null;
    if (wanted && address && allowed?.test(address)) people.push(address);
  }
  const seen = new Map<string, string>();
  for (const p of people) {
    const address = p ? addressOf(p) : null;
    if (address && !seen.has(address.toLowerCase())) seen.set(address.toLowerCase(), address);
  }
  return [...seen.values()];
}

/** The address in `Name <address>` or a bare address; null when there is none. */
export function addressOf(who: string): string | null {
  const m = /<([^<>\s]+@[^<>\s]+)>\s*$/.exec(who) ?? /^\s*([^<>\s]+@[^<>\s]+)\s*$/.exec(who);
  return m ? m[1]! : null;
}

/** The repository's allowEmailsTo as an anchored pattern; null (nobody) when empty. */
export function allowPattern(pattern: string): RegExp | null {
  return pattern ? new RegExp(`^(?:${pattern})$`, 'i') : null;
}

export interface MailBuild {
  id: number;
  architecture: string;
  result: string | null;
}

export interface MailContent {
  subject: string;
  text: string;
  /** The event as JSON, attached as `event-<id>.json`. */
  attachment: { filename: string; content: string };
}

/**
 * One message per event: `[debyard <identity>] INSTALLED hello-c 1.0~test12+1 (bookworm-test-unstable)`,
 * a body with the summary, the reason and absolute links, and the event as a JSON attachment.
 */
export function composeMail(opts: {
  identity: string;
  /** The daemon's public HTTP URL (no trailing slash). */
  baseUrl: string;
  event: MailEvent;
  builds: MailBuild[];
}): MailContent {
  const { event, baseUrl } = opts;
  const p = event.payload;
  const [source, version, distribution] = [text(p.source), text(p.version), text(p.distribution)];
  const what = source
    ? `${source}${version ? ` ${version}` : ''}${distribution ? ` (${distribution})` : ''}`
    : oneLine(event.summary);
  const subject = `[debyard ${opts.identity}] ${event.type} ${what}`;

  const lines = [oneLine(event.summary), ''];
  const reason = text(p.reason);
  if (reason) lines.push(`Reason: ${reason}`, '');
  const links: [string, string][] = [];
  const upload = text(p.upload);
  if (upload) links.push(['Upload', `${baseUrl}/uploads/${upload}`]);
  const changesUrl = text(p.changesUrl);
  if (changesUrl) links.push(['Changes', `${baseUrl}${changesUrl}`]);
  for (const b of opts.builds)
    links.push([`Build log ${b.architecture}${b.result ? ` (${b.result})` : ''}`, `${baseUrl}/logs/${b.id}`]);
  if (source) links.push(['Package', `${baseUrl}/packages/${encodeURIComponent(source)}`]);
  if (STAFF_MAILED_EVENTS.has(event.type)) links.push(['Administration', `${baseUrl}/admin`]);
  links.push(['Events', `${baseUrl}/events`]);
  const width = Math.max(...links.map(([label]) => label.length)) + 1;
  for (const [label, url] of links) lines.push(`${`${label}:`.padEnd(width)} ${url}`);
  lines.push(
    '',
    '-- ',
    `debyard ${opts.identity} (${baseUrl}), event ${event.id} at ${event.createdAt.toISOString()}.`,
    `Subscriptions: ${baseUrl}/profile, or debyard subscriptions.`,
  );
  return {
    subject,
    text: lines.join('\n') + '\n',
    attachment: {
      filename: `event-${event.id}.json`,
      content:
        JSON.stringify(
          { id: event.id, type: event.type, createdAt: event.createdAt, summary: event.summary, payload: p },
          null,
          2,
        ) + '\n',
    },
  };
}

function text(v: unknown): string | null {
  return typeof v === 'string' && v ? v : typeof v === 'number' ? String(v) : null;
}

/** Mail headers are one line; summaries may quote a tool's multi-line message. */
function oneLine(s: string): string {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
