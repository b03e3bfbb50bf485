import { computed, getCurrentScope, onScopeDispose, ref, shallowRef } from 'vue';
import { client } from '../api/client';
import { EngineStartMutation, EngineStopMutation, StatusQuery } from '../api/documents';
import { toApiError, type ApiError } from '../api/errors';
import type { Status } from '../api/types';
import { useNow } from './useNow';

export interface UseStatusOptions {
  /** Re-read the status this often (load changes); 0 turns polling off. */
  pollMs?: number;
}

/** The daemon's status, refreshed periodically, with an uptime that ticks every second. */
export function useStatus(options: UseStatusOptions = {}) {
  const pollMs = options.pollMs ?? 10_000;
  const status = shallowRef<Status | null>(null);
  const error = ref<ApiError | null>(null);
  const loading = ref(false);
  const engineBusy = ref(false);
  const engineError = ref<ApiError | null>(null);
  // Uptime counts from when the answer arrived, so the browser's clock skew does not matter.
  let receivedAt = Date.now();
  const now = useNow();

  function accept(next: Status): void {
    status.value = next;
    receivedAt = Date.now();
  }

  async function refresh(): Promise<void> {
    loading.value = true;
    try {
      const result = await client.query(StatusQuery, {}, { requestPolicy: 'network-only' }).toPromise();
      if (result.error) error.value = toApiError(result.error);
      else if (result.data) {
        error.value = null;
        accept(result.data.status);
      }
    } finally {
      loading.value = false;
    }
  }

  async function setEngine(running: boolean): Promise<void> {
    engineBusy.value = true;
    engineError.value = null;
    try {
      if (running) {
        const result = await client.mutation(EngineStartMutation, {}).toPromise();
        if (result.error) engineError.value = toApiError(result.error);
        else if (result.data) accept(result.data.engineStart);
      } else {
        const result = await client.mutation(EngineStopMutation, {}).toPromise();
        if (result.error) engineError.value = toApiError(result.error);
        else if (result.data) accept(result.data.engineStop);
      }
    } finally {
      engineBusy.value = false;
    }
  }

  const uptimeSeconds = computed(() => {
    if (!status.value) return null;
    // `now` only says when to recompute; the tick may predate the answer, Date.now() does not.
    void now.value;
    return status.value.uptimeSeconds + (Date.now() - receivedAt) / 1000;
  });

  void refresh();
  if (pollMs > 0) {
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible') void refresh();
    }, pollMs);
    if (getCurrentScope()) onScopeDispose(() => clearInterval(timer));
  }

  return {
    status,
    error,
    loading,
    uptimeSeconds,
    refresh,
    engineBusy,
    engineError,
    startEngine: () => setEngine(true),
    stopEngine: () => setEngine(false),
  };
}
