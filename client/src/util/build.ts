import type { Build, BuildResult, BuildState, QaResult } from '../api/types';
import type { Tone } from './eventTone';

export function buildStateTone(state: BuildState): Tone {
  if (state === 'BUILDING') return 'info';
  if (state === 'QUEUED') return 'neutral';
  return 'success';
}

export function buildResultTone(result: BuildResult): Tone {
  switch (result) {
    case 'SUCCESSFUL':
      return 'success';
    case 'FAILED':
    case 'ERROR':
      return 'danger';
    case 'GIVEN_BACK':
    case 'CANCELLED':
      return 'warning';
    default:
      return 'neutral';
  }
}

export function qaTone(result: QaResult): Tone {
  switch (result) {
    case 'PASS':
      return 'success';
    case 'WARN':
      return 'warning';
    case 'FAIL':
    case 'ERROR':
      return 'danger';
    default:
      return 'neutral';
  }
}

/** Seconds from start to finish (or to `now` while it builds); null before it starts. */
export function buildSeconds(build: Build, now: number): number | null {
  if (!build.startedAt) return null;
  const start = new Date(build.startedAt).getTime();
  const end = build.finishedAt ? new Date(build.finishedAt).getTime() : now;
  return Number.isNaN(start) || Number.isNaN(end) ? null : Math.max(0, (end - start) / 1000);
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** "312 MiB". */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${UNITS[unit]}`;
}
