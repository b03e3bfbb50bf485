import { ref, shallowRef } from 'vue';
import { client } from '../api/client';
import { toApiError, type ApiError } from '../api/errors';
import { MirrorRepositoryMutation, type MirrorRequest, type MirrorResult } from '../api/mirrorDocuments';
import { NO_ANSWER } from './useLatestQuery';

/**
 * A mirror in two steps: `review` checks what the console can (an absolute directory) and keeps the
 * request to be confirmed, so the reader sees exactly what will be written where; `confirm` asks the
 * daemon to write it, which refuses with a code and the field it is about.
 */
export function useMirror() {
  const request = shallowRef<MirrorRequest | null>(null);
  const result = shallowRef<MirrorResult | null>(null);
  const busy = ref(false);
  const error = ref<ApiError | null>(null);

  function review(r: MirrorRequest): void {
    error.value = null;
    if (!r.directory.startsWith('/')) {
      error.value = {
        code: 'BAD_USER_INPUT',
        field: 'directory',
        message: 'Give the full path of a directory on the daemon’s host, starting with /',
      };
      return;
    }
    request.value = r;
  }

  async function confirm(): Promise<void> {
    const r = request.value;
    if (!r) return;
    busy.value = true;
    error.value = null;
    try {
      const answer = await client.mutation(MirrorRepositoryMutation, r).toPromise();
      if (answer.error || !answer.data) error.value = answer.error ? toApiError(answer.error) : NO_ANSWER;
      else result.value = answer.data.mirrorRepository;
    } finally {
      busy.value = false;
    }
  }

  /** Back to the form: the request (and any error) is dropped, the values stay in the form. */
  function edit(): void {
    request.value = null;
    error.value = null;
  }

  return { request, result, busy, error, review, confirm, edit };
}
