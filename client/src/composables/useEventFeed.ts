import { computed, getCurrentScope, onScopeDispose, ref, shallowRef, type Ref } from 'vue';
import { client } from '../api/client';
import { EventsQuery, EventsSubscription } from '../api/documents';
import { toApiError, type ApiError } from '../api/errors';
import type { DaemonEvent } from '../api/types';
import { liveState } from '../api/ws';
import { matchesEventFilter, type EventFilter } from '../util/eventFilter';
import { useResumableSubscription } from './useResumableSubscription';

export interface UseEventFeedOptions {
  /** How many events to load first, and per "load older". */
  limit?: number;
  /** Keep at most this many events on screen; older ones drop off and can be paged in again. */
  maxItems?: number;
  /** Called for every new live event, shown or buffered. */
  onEvent?: (event: DaemonEvent) => void;
  /** Show only matching events; the others are kept, so changing the filter shows them at once. */
  filter?: Ref<EventFilter>;
}

const RELOAD_AFTER_MS = 5000;

/**
 * The newest events, kept live. New events go on top, unless the reader is `holding` the list
 * (scrolled into it, or reading a payload): then they wait in `pending` until `showPending()`,
 * so the list never moves under the reader. With a `filter`, `events` and `pending` hold only the
 * matching events (`all` holds every one), and only matching events count as new.
 */
export function useEventFeed(options: UseEventFeedOptions = {}) {
  const limit = options.limit ?? 50;
  const maxItems = options.maxItems ?? Infinity;

  /** Loaded events, newest first, whatever the filter. */
  const all = shallowRef<DaemonEvent[]>([]);
  /** Events that arrived while the reader held the list, newest first, whatever the filter. */
  const pendingAll = shallowRef<DaemonEvent[]>([]);
  const matches = (event: DaemonEvent): boolean => !options.filter || matchesEventFilter(event, options.filter.value);
  const events = computed(() => all.value.filter(matches));
  const pending = computed(() => pendingAll.value.filter(matches));
  const loading = ref(false);
  const loadingOlder = ref(false);
  const error = ref<ApiError | null>(null);
  const olderError = ref<ApiError | null>(null);
  const hasOlder = ref(false);
  /** Set by the view while new events must not be inserted above the reader. */
  const holding = ref(false);
  /** Text for a polite live region: what changed without the reader looking. */
  const announcement = ref('');

  // Ids on screen or pending: the replay after a reconnect may repeat what we already have.
  const seen = new Set<string>();
  let reloadTimer: ReturnType<typeof setTimeout> | undefined;

  const live = useResumableSubscription({
    query: EventsSubscription,
    variables: (since) => ({ since }),
    item: (data) => data.events,
    cursor: (event) => event.id,
    onItem: receive,
  });

  function receive(event: DaemonEvent): void {
    if (seen.has(event.id)) return;
    seen.add(event.id);
    options.onEvent?.(event);
    // Events the filter hides wait only behind shown ones: with none waiting, they all go in.
    if (!holding.value && pending.value.length === 0) {
      const waiting = pendingAll.value;
      pendingAll.value = [];
      prepend([event, ...waiting]);
      return;
    }
    // Once something waits, later events wait too, so the list stays in order.
    pendingAll.value = [event, ...pendingAll.value];
    if (matches(event)) announcement.value = countLabel(pending.value.length);
  }

  function prepend(newest: DaemonEvent[]): void {
    const next = [...newest, ...all.value];
    if (next.length > maxItems) {
      for (const dropped of next.splice(maxItems)) seen.delete(dropped.id);
      hasOlder.value = true;
    }
    all.value = next;
  }

  /** Puts the buffered events on top of the list. */
  function showPending(): void {
    if (pendingAll.value.length === 0) return;
    const count = pending.value.length;
    prepend(pendingAll.value);
    pendingAll.value = [];
    if (count > 0) announcement.value = `${countLabel(count)} shown`;
  }

  /** (Re)loads the newest events and streams everything after the newest of them. */
  async function load(): Promise<void> {
    clearTimeout(reloadTimer);
    live.stop();
    loading.value = true;
    error.value = null;
    try {
      const result = await client.query(EventsQuery, { limit }, { requestPolicy: 'network-only' }).toPromise();
      if (result.error || !result.data) {
        error.value = result.error
          ? toApiError(result.error)
          : { message: 'The daemon sent no events.', code: 'UNKNOWN' };
        if (error.value.code === 'NETWORK') reloadTimer = setTimeout(() => void load(), RELOAD_AFTER_MS);
        return;
      }
      const newest = result.data.events.slice(0, maxItems);
      seen.clear();
      for (const event of newest) seen.add(event.id);
      all.value = newest;
      pendingAll.value = [];
      hasOlder.value = result.data.events.length >= limit;
      live.start(newest[0]?.id ?? null);
    } finally {
      loading.value = false;
    }
  }

  /** Appends the page of events before the oldest one shown. */
  async function loadOlder(): Promise<void> {
    const oldest = all.value.at(-1);
    if (!oldest || loadingOlder.value) return;
    loadingOlder.value = true;
    olderError.value = null;
    try {
      const result = await client
        .query(EventsQuery, { before: oldest.id, limit }, { requestPolicy: 'network-only' })
        .toPromise();
      if (result.error || !result.data) {
        olderError.value = result.error
          ? toApiError(result.error)
          : { message: 'The daemon sent no events.', code: 'UNKNOWN' };
        return;
      }
      const older = result.data.events.filter((event) => !seen.has(event.id));
      for (const event of older) seen.add(event.id);
      all.value = [...all.value, ...older];
      hasOlder.value = result.data.events.length >= limit;
    } finally {
      loadingOlder.value = false;
    }
  }

  void load();
  if (getCurrentScope()) onScopeDispose(() => clearTimeout(reloadTimer));

  return {
    events,
    all,
    pending,
    pendingCount: computed(() => pending.value.length),
    loading,
    loadingOlder,
    error,
    olderError,
    liveError: live.error,
    liveActive: live.active,
    liveState,
    hasOlder,
    holding,
    announcement,
    load,
    loadOlder,
    showPending,
  };
}

export function countLabel(count: number): string {
  return count === 1 ? '1 new event' : `${count} new events`;
}
