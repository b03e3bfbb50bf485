import { ref, shallowRef } from 'vue';
import { client } from '../api/client';
import { toApiError, type ApiError } from '../api/errors';
import {
  AddWebhookMutation,
  RemoveWebhookMutation,
  SetWebhookActiveMutation,
  TestWebhookMutation,
  WebhooksQuery,
  type Webhook,
  type WebhookInput,
  type WebhookTestResult,
} from '../api/webhookDocuments';
import { useEventReload } from './useEventReload';
import { NO_ANSWER } from './useLatestQuery';

/**
 * The outgoing webhooks (administrators): list, add, switch on and off, remove, test. Reloads on WEBHOOK_*
 * events, so a failed delivery shows up without a reload of the page.
 */
export function useWebhooks() {
  const webhooks = shallowRef<Webhook[]>([]);
  const loading = ref(false);
  const busy = ref(false);
  const error = ref<ApiError | null>(null);
  /** The last test of each webhook, by id. */
  const tests = ref<Record<string, WebhookTestResult>>({});

  async function load(): Promise<void> {
    loading.value = true;
    try {
      const result = await client.query(WebhooksQuery, {}, { requestPolicy: 'network-only' }).toPromise();
      if (result.error) error.value = toApiError(result.error);
      webhooks.value = result.data?.webhooks ?? webhooks.value;
    } finally {
      loading.value = false;
    }
  }
  useEventReload(
    () => void load(),
    (event) => event.type.startsWith('WEBHOOK_'),
  );

  async function run<T>(change: () => Promise<{ error?: unknown; data?: T }>): Promise<T | null> {
    busy.value = true;
    error.value = null;
    try {
      const result = await change();
      if (result.error || !result.data) {
        error.value = result.error ? toApiError(result.error) : NO_ANSWER;
        return null;
      }
      await load();
      return result.data;
    } finally {
      busy.value = false;
    }
  }

  const add = async (input: WebhookInput) =>
    (await run(() => client.mutation(AddWebhookMutation, { input }).toPromise())) !== null;
  const remove = (id: string) => run(() => client.mutation(RemoveWebhookMutation, { id }).toPromise());
  const setActive = (id: string, active: boolean) =>
    run(() => client.mutation(SetWebhookActiveMutation, { id, active }).toPromise());
  async function test(id: string): Promise<void> {
    const data = await run(() => client.mutation(TestWebhookMutation, { id }).toPromise());
    if (data) tests.value = { ...tests.value, [id]: data.testWebhook };
  }

  return { webhooks, loading, busy, error, tests, load, add, remove, setActive, test };
}
