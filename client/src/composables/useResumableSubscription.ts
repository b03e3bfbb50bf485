import { getCurrentScope, onScopeDispose, ref } from 'vue';
import type { AnyVariables, TypedDocumentNode } from '@urql/core';
import { client } from '../api/client';
import { toApiError, type ApiError } from '../api/errors';
import { wsClient } from '../api/ws';

export interface ResumableSubscriptionOptions<Data, Variables extends AnyVariables, Item> {
  query: TypedDocumentNode<Data, Variables>;
  /** Variables for (re)subscribing after the given cursor (null: from now on). */
  variables: (cursor: string | null) => Variables;
  /** The streamed item in one result. */
  item: (data: Data) => Item;
  /** Cursor of an item: the next subscription starts after it. */
  cursor: (item: Item) => string;
  onItem: (item: Item) => void;
}

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 15_000;

/**
 * A subscription that survives dropped connections: whenever the stream ends with a network
 * error it subscribes again, after a backoff, from the cursor of the last item it delivered,
 * so the server's replay fills the gap and nothing arrives twice.
 */
export function useResumableSubscription<Data, Variables extends AnyVariables, Item>(
  options: ResumableSubscriptionOptions<Data, Variables, Item>,
) {
  /** Last error of the stream; cleared when items flow again. */
  const error = ref<ApiError | null>(null);
  /** True while the stream is wanted (between start and stop), connected or retrying. */
  const active = ref(false);
  const reconnects = ref(0);

  let cursor: string | null = null;
  let unsubscribe: (() => void) | null = null;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let retryDelay = FIRST_RETRY_MS;
  let stopListening: (() => void) | null = null;

  function subscribe(): void {
    const source = client.subscription(options.query, options.variables(cursor));
    const subscription = source.subscribe((result) => {
      if (result.error) {
        const failure = toApiError(result.error);
        error.value = failure;
        // A refusal (bad cursor, no permission) would be refused again: give up and say why.
        if (result.error.networkError) scheduleRetry();
        else stop();
        return;
      }
      if (!result.data) return;
      const item = options.item(result.data);
      cursor = options.cursor(item);
      error.value = null;
      options.onItem(item);
    });
    unsubscribe = () => subscription.unsubscribe();
  }

  function stopStream(): void {
    unsubscribe?.();
    unsubscribe = null;
  }

  function scheduleRetry(): void {
    stopStream();
    clearTimeout(retryTimer);
    retryTimer = setTimeout(() => {
      if (!active.value) return;
      reconnects.value++;
      subscribe();
    }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, MAX_RETRY_MS);
  }

  /** Starts streaming items after `from` (null: only new ones). */
  function start(from: string | null): void {
    stop();
    cursor = from;
    active.value = true;
    retryDelay = FIRST_RETRY_MS;
    stopListening = wsClient.on('connected', () => {
      retryDelay = FIRST_RETRY_MS;
    });
    subscribe();
  }

  function stop(): void {
    active.value = false;
    clearTimeout(retryTimer);
    stopListening?.();
    stopListening = null;
    stopStream();
  }

  if (getCurrentScope()) onScopeDispose(stop);

  return { error, active, reconnects, start, stop };
}
