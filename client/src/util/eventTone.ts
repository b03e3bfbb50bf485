export type Tone = 'success' | 'warning' | 'danger' | 'info' | 'neutral';

// Event types grow with the server; the tone comes from the verb so new ones look right too (the
// pipeline's are the bare verb: INSTALLED, REJECTED).
const TONE_BY_SUFFIX: ReadonlyArray<readonly [RegExp, Tone]> = [
  [/(^|_)(FAILED|REJECTED|ERROR|CRASHED)$/, 'danger'],
  [/(^|_)(STOPPED|REMOVED|REVOKED|CANCELLED|CANCELED|EXPIRED)$/, 'warning'],
  [/(^|_)(STARTED|CREATED|INSTALLED|BUILT|SUCCEEDED|ACCEPTED|ACTIVATED)$/, 'success'],
  [/(^|_)(UPLOAD|UPLOADED|QUEUED|MIGRATED|RESTORED|PORTED|PACKAGING|INSTALLING|RECEIVED|RETRIED)$/, 'info'],
];

export function eventTone(type: string): Tone {
  for (const [pattern, tone] of TONE_BY_SUFFIX) if (pattern.test(type)) return tone;
  return 'neutral';
}

/** "ENGINE_STARTED" → "engine started". */
export function eventLabel(type: string): string {
  return type.toLowerCase().replace(/_/g, ' ');
}
