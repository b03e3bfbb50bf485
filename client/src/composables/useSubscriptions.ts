import { ref, shallowRef } from 'vue';
import { client } from '../api/client';
import { toApiError, type ApiError } from '../api/errors';
import { SubscribeMutation, SubscriptionsQuery, UnsubscribeMutation, type Subscription } from '../api/profileDocuments';
import { NO_ANSWER } from './useLatestQuery';

/** The signed-in user's notification subscriptions: list, add (empty filters: all), remove. */
export function useSubscriptions() {
  const subscriptions = shallowRef<Subscription[]>([]);
  const loading = ref(false);
  const busy = ref(false);
  const error = ref<ApiError | null>(null);

  async function load(): Promise<void> {
    loading.value = true;
    try {
      const result = await client.query(SubscriptionsQuery, {}, { requestPolicy: 'network-only' }).toPromise();
      error.value = result.error ? toApiError(result.error) : null;
      subscriptions.value = result.data?.subscriptions ?? [];
    } finally {
      loading.value = false;
    }
  }

  async function run(change: () => Promise<{ error?: unknown; data?: unknown }>): Promise<boolean> {
    busy.value = true;
    error.value = null;
    try {
      const result = await change();
      if (result.error || !result.data) {
        error.value = result.error ? toApiError(result.error) : NO_ANSWER;
        return false;
      }
      await load();
      return true;
    } finally {
      busy.value = false;
    }
  }

  const add = (source: string, distribution: string) =>
    run(() =>
      client
        .mutation(SubscribeMutation, { source: source.trim() || null, distribution: distribution.trim() || null })
        .toPromise(),
    );
  const remove = (id: string) => run(() => client.mutation(UnsubscribeMutation, { id }).toPromise());

  return { subscriptions, loading, busy, error, load, add, remove };
}
