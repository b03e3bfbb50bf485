import { getCurrentScope, onScopeDispose, shallowRef } from 'vue';
import { WorkersQuery } from '../api/buildDocuments';
import type { Worker } from '../api/types';
import { useBuildEvents } from './useBuilds';
import { useLatestQuery } from './useLatestQuery';

/**
 * Workers come, go and beat (every 5 s) without events: read them again often enough that one that
 * stopped shows within a poll of going quiet.
 */
const POLL_MS = 10_000;

/** The `debyard worker` processes, read again on BUILD_* events (what they run) and every ten seconds. */
export function useWorkers() {
  const workers = shallowRef<Worker[]>([]);
  const { loading, loaded, error, load } = useLatestQuery(
    WorkersQuery,
    () => ({}),
    (data) => (workers.value = data.builders.workers),
  );
  void load();
  useBuildEvents(() => void load());
  const timer = setInterval(() => {
    if (document.visibilityState === 'visible') void load();
  }, POLL_MS);
  if (getCurrentScope()) onScopeDispose(() => clearInterval(timer));
  return { workers, loading, loaded, error, load };
}
