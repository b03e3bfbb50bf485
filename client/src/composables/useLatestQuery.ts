import { ref } from 'vue';
import type { AnyVariables, TypedDocumentNode } from '@urql/core';
import { client } from '../api/client';
import { toApiError, type ApiError } from '../api/errors';

export const NO_ANSWER: ApiError = { message: 'The daemon sent no answer.', code: 'UNKNOWN' };

/**
 * Reads `query` from the network on every `load()`. Only the answer to the latest call counts: one for
 * the filters or the object shown before must not overwrite the current one. `apply` takes the data
 * of an answer without error; an error keeps what `apply` set last.
 */
export function useLatestQuery<Data, Variables extends AnyVariables>(
  query: TypedDocumentNode<Data, Variables>,
  variables: () => Variables,
  apply: (data: Data) => void,
) {
  const loading = ref(false);
  /** An answer (or an error) came for the current subject. */
  const loaded = ref(false);
  const error = ref<ApiError | null>(null);
  let generation = 0;

  async function load(): Promise<void> {
    const mine = ++generation;
    loading.value = true;
    try {
      const result = await client.query(query, variables(), { requestPolicy: 'network-only' }).toPromise();
      if (mine !== generation) return;
      if (result.error || !result.data) {
        error.value = result.error ? toApiError(result.error) : NO_ANSWER;
        return;
      }
      error.value = null;
      apply(result.data);
    } finally {
      if (mine === generation) {
        loading.value = false;
        loaded.value = true;
      }
    }
  }

  return { loading, loaded, error, load };
}
