import { CONFIG_KINDS, type CheckState, type ConfigKind, type ConfigStatus, type LifecycleAction } from '../api/types';
import type { Tone } from './eventTone';

interface KindText {
  slug: string;
  label: string;
  singular: string;
}

/** How kinds appear in URLs (`/config/apt-key`) and on screen. */
const KIND_INFO: Partial<Record<string, KindText>> = {
  DAEMON: { slug: 'daemon', label: 'Daemon', singular: 'daemon' },
  ARCHIVE: { slug: 'archive', label: 'Archives', singular: 'archive' },
  APT_KEY: { slug: 'apt-key', label: 'APT keys', singular: 'APT key' },
  SOURCE: { slug: 'source', label: 'Sources', singular: 'source' },
  DISTRIBUTION: { slug: 'distribution', label: 'Distributions', singular: 'distribution' },
  LAYOUT: { slug: 'layout', label: 'Layouts', singular: 'layout' },
  REPOSITORY: { slug: 'repository', label: 'Repositories', singular: 'repository' },
};

// The daemon grows new kinds; they get words made from their names until they are added above.
function kindText(kind: string): KindText {
  const known = KIND_INFO[kind];
  if (known) return known;
  const singular = kind.toLowerCase().replace(/_/g, ' ');
  return { slug: kind.toLowerCase().replace(/_/g, '-'), label: fieldLabel(`${singular}s`), singular };
}

export const kindSlug = (kind: ConfigKind): string => kindText(kind).slug;
export const kindLabel = (kind: ConfigKind): string => kindText(kind).label;
export const kindSingular = (kind: ConfigKind): string => kindText(kind).singular;

/** The kind a URL segment names among `kinds` (the daemon's, or the ones this console knows), or null. */
export function kindFromSlug(slug: unknown, kinds: readonly ConfigKind[] = CONFIG_KINDS): ConfigKind | null {
  if (typeof slug !== 'string') return null;
  return kinds.find((k) => kindSlug(k) === slug.toLowerCase()) ?? null;
}

/** The lifecycle buttons, in the order a person runs them; PCA does all three at once. */
export const LIFECYCLE_ACTIONS: ReadonlyArray<{ action: LifecycleAction; label: string; title: string }> = [
  { action: 'PREPARE', label: 'Prepare', title: 'Prepare it (and what it depends on)' },
  { action: 'CHECK', label: 'Check', title: 'Check that it works' },
  { action: 'ACTIVATE', label: 'Activate', title: 'Activate it (it must be prepared and checked)' },
  { action: 'DEACTIVATE', label: 'Deactivate', title: 'Deactivate it, keeping it prepared' },
  { action: 'REMOVE', label: 'Remove', title: 'Remove what prepare created' },
  { action: 'PCA', label: 'PCA', title: 'Prepare, check and activate' },
];

export function statusTone(status: ConfigStatus | null): Tone {
  if (status === 'ACTIVE') return 'success';
  if (status === 'PREPARED') return 'info';
  return 'neutral';
}

export function checkTone(state: CheckState | null): Tone {
  switch (state) {
    case 'CHECKED':
      return 'success';
    case 'FAILED':
      return 'danger';
    case 'CHANGED':
    case 'AUTO_REACTIVATE':
      return 'warning';
    default:
      return 'neutral';
  }
}

/** "AUTO_REACTIVATE" → "auto reactivate". */
export const enumLabel = (value: string): string => value.toLowerCase().replace(/_/g, ' ');

/** A field value as one line of text (lists joined, objects as JSON). */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (Array.isArray(value)) return value.length ? value.map((v) => formatValue(v)).join(', ') : '—';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** "internalAptPriority" → "Internal apt priority". */
export function fieldLabel(name: string): string {
  const words = name.replace(/([a-z0-9])([A-Z])/g, '$1 $2').toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** `formatValue`, cut to one readable line (an armored key is thousands of characters). */
export function shortValue(value: unknown, max = 160): string {
  const text = formatValue(value).replace(/\s+/g, ' ');
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
