import type { DaemonEvent } from '../api/types';

/** What the event feed shows: a type or a group of types, and the source package a payload names. */
export interface EventFilter {
  /** An event type, or `group:<name>` for one of EVENT_GROUPS. */
  type: string | null;
  source: string | null;
}

export const NO_EVENT_FILTER: EventFilter = { type: null, source: null };

/** Groups of event types the feed filters by; types the server adds later fall into them by prefix. */
export const EVENT_GROUPS: ReadonlyArray<{ name: string; label: string; match: (type: string) => boolean }> = [
  {
    name: 'uploads',
    label: 'Uploads (received … installed)',
    match: (t) =>
      /^(UPLOAD_|FTP_|INCOMING_|PORT_)/.test(t) ||
      ['REJECTED', 'PACKAGING', 'INSTALLING', 'INSTALLED', 'FAILED'].includes(t),
  },
  { name: 'builds', label: 'Builds', match: (t) => t.startsWith('BUILD_') },
  {
    name: 'repositories',
    label: 'Repositories (migrated, removed, restored)',
    match: (t) => ['MIGRATED', 'REMOVED', 'RESTORED'].includes(t),
  },
  { name: 'config', label: 'Configuration', match: (t) => t.startsWith('CONFIG_') || t.startsWith('SETUP_') },
  { name: 'daemon', label: 'Daemon and engine', match: (t) => /^(DAEMON|ENGINE)_/.test(t) },
  { name: 'users', label: 'Users and tokens', match: (t) => /^(USER|TOKEN)_/.test(t) },
];

/** The types offered one by one, in the pipeline's order first. */
export const FILTER_EVENT_TYPES: readonly string[] = [
  'UPLOAD_RECEIVED',
  'REJECTED',
  'PACKAGING',
  'INSTALLING',
  'INSTALLED',
  'FAILED',
  'UPLOAD_RETRIED',
  'PORT_FAILED',
  'MIGRATED',
  'REMOVED',
  'RESTORED',
  'BUILD_QUEUED',
  'BUILD_STARTED',
  'BUILD_FINISHED',
  'BUILD_CANCELLED',
  'BUILD_REQUEUED',
];

export function isEventFilterActive(filter: EventFilter): boolean {
  return !!filter.type || !!filter.source;
}

export function matchesEventFilter(event: DaemonEvent, filter: EventFilter): boolean {
  if (filter.source && event.payload?.source !== filter.source) return false;
  if (!filter.type) return true;
  if (filter.type.startsWith('group:')) {
    const group = EVENT_GROUPS.find((g) => `group:${g.name}` === filter.type);
    return !group || group.match(event.type);
  }
  return event.type === filter.type;
}
