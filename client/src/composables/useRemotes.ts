import { getCurrentScope, onScopeDispose, shallowRef } from 'vue';
import { RemotesQuery } from '../api/buildDocuments';
import type { Remote } from '../api/types';
import { useEventReload } from './useEventReload';
import { useLatestQuery } from './useLatestQuery';

/** Load and "last seen" change without events (the daemon checks remotes on a clock): read them again. */
const POLL_MS = 15_000;

/** How a remote is doing, from its lifecycle state. */
export type RemoteHealth = 'up' | 'down' | 'stopped' | 'inactive';

export function remoteHealth(r: Remote): RemoteHealth {
  if (r.checkState === 'AUTO_REACTIVATE') return 'down';
  if (r.status !== 'ACTIVE') return 'inactive';
  return r.load !== null && r.load < 0 ? 'stopped' : 'up';
}

/** The remotes, read again on CONFIG_* events and every quarter minute. */
export function useRemotes() {
  const remotes = shallowRef<Remote[]>([]);
  const { loading, loaded, error, load } = useLatestQuery(
    RemotesQuery,
    () => ({}),
    (data) => (remotes.value = data.remotes),
  );
  void load();
  useEventReload(
    () => void load(),
    (event) => event.type.startsWith('CONFIG_'),
  );
  const timer = setInterval(() => {
    if (document.visibilityState === 'visible') void load();
  }, POLL_MS);
  if (getCurrentScope()) onScopeDispose(() => clearInterval(timer));
  return { remotes, loading, loaded, error, load };
}
