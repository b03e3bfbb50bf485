import type { UploadState } from '../api/types';
import type { Tone } from './eventTone';

export function uploadStateTone(state: UploadState): Tone {
  switch (state) {
    case 'INSTALLED':
      return 'success';
    case 'REJECTED':
    case 'FAILED':
      return 'danger';
    case 'PACKAGING':
    case 'INSTALLING':
      return 'info';
    default:
      return 'neutral';
  }
}

/** An upload that ended badly: its reason is the first thing to show. */
export const uploadFailed = (state: UploadState): boolean => state === 'REJECTED' || state === 'FAILED';

/** "hello 1.0-1", or the .changes name while the checks have not read it. */
export function uploadTitle(upload: { source: string | null; version: string | null; changesName: string }): string {
  return upload.source ? `${upload.source} ${upload.version ?? ''}`.trim() : upload.changesName;
}
