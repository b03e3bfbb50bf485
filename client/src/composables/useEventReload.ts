import { getCurrentScope, onScopeDispose } from 'vue';
import type { DaemonEvent } from '../api/types';
import { useLiveEvents } from './useLiveEvents';

const RELOAD_DELAY_MS = 250;

/**
 * Calls `reload` shortly after the events that `match` (several events of one build or upload come
 * together: one reload is enough).
 */
export function useEventReload(reload: () => void, match: (event: DaemonEvent) => boolean) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const live = useLiveEvents((event) => {
    if (!match(event)) return;
    clearTimeout(timer);
    timer = setTimeout(reload, RELOAD_DELAY_MS);
  });
  void live.start();
  if (getCurrentScope()) onScopeDispose(() => clearTimeout(timer));
  return live;
}
