import { ref } from 'vue';
import { client } from '../api/client';
import { LatestEventQuery } from '../api/configDocuments';
import { EventsSubscription } from '../api/documents';
import { toApiError, type ApiError } from '../api/errors';
import type { DaemonEvent } from '../api/types';
import { useResumableSubscription } from './useResumableSubscription';

/**
 * Every event from now on, with nothing lost between `start()` resolving and the first live event:
 * the stream starts after the newest event the daemon has, and its replay fills any gap. Start it
 * before a mutation whose events you want to see.
 */
export function useLiveEvents(onEvent: (event: DaemonEvent) => void) {
  const seen = new Set<string>();
  const startError = ref<ApiError | null>(null);
  const live = useResumableSubscription({
    query: EventsSubscription,
    variables: (since) => ({ since }),
    item: (data) => data.events,
    cursor: (event) => event.id,
    onItem: (event) => {
      // A reconnect replays from the cursor; never hand out an event twice.
      if (seen.has(event.id)) return;
      seen.add(event.id);
      onEvent(event);
    },
  });

  async function start(): Promise<void> {
    startError.value = null;
    const result = await client.query(LatestEventQuery, {}, { requestPolicy: 'network-only' }).toPromise();
    if (result.error) {
      startError.value = toApiError(result.error);
      return;
    }
    live.start(result.data?.events[0]?.id ?? null);
  }

  return { start, stop: live.stop, active: live.active, error: live.error, startError };
}
