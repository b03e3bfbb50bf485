import { ref, shallowRef } from 'vue';
import { client } from '../api/client';
import { PortExternalMutation, type ExternalPortRequest } from '../api/deliveryDocuments';
import { toApiError, type ApiError } from '../api/errors';
import type { Upload } from '../api/types';
import { NO_ANSWER } from './useLatestQuery';

/** An external port of a .dsc URL: the daemon downloads and checks it, then uploads one port per target. */
export function usePortExternal() {
  const made = shallowRef<Pick<Upload, 'id' | 'state' | 'source' | 'version' | 'distribution'>[]>([]);
  const busy = ref(false);
  const error = ref<ApiError | null>(null);

  async function submit(request: ExternalPortRequest): Promise<void> {
    busy.value = true;
    error.value = null;
    made.value = [];
    try {
      const result = await client.mutation(PortExternalMutation, request).toPromise();
      if (result.error || !result.data) error.value = result.error ? toApiError(result.error) : NO_ANSWER;
      else made.value = result.data.portExternal;
    } finally {
      busy.value = false;
    }
  }

  return { made, busy, error, submit };
}
