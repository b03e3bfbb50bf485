import { ref, shallowRef, watch, type Ref } from 'vue';
import { client } from '../api/client';
import { RetryUploadMutation, UploadQuery, UploadsQuery } from '../api/uploadDocuments';
import { toApiError, type ApiError } from '../api/errors';
import { UPLOAD_EVENT_TYPES, type DaemonEvent, type UploadFilter, type UploadWithBuilds } from '../api/types';
import { eventBuildId, isBuildEvent, useBuildEvents } from './useBuilds';
import { NO_ANSWER } from './useLatestQuery';
import { usePagedList } from './usePagedList';

export const UPLOADS_PAGE_SIZE = 50;
const MAX_RELOAD = 200;

/** Events that change an upload: the pipeline's, and its arrival. */
export const isUploadEvent = (event: DaemonEvent): boolean =>
  UPLOAD_EVENT_TYPES.includes(event.type) || event.type === 'UPLOAD_RECEIVED';

/** The upload id an upload event is about. */
export function eventUploadId(event: DaemonEvent): string | null {
  const id = event.payload?.upload;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : null;
}

/** Uploads matching `filter`, newest first, with "older" paging, reloaded on upload events. */
export function useUploads(filter: Ref<UploadFilter>) {
  const { items, ...list } = usePagedList({
    query: UploadsQuery,
    page: (data) => data.uploads,
    filter,
    pageSize: UPLOADS_PAGE_SIZE,
    maxReload: MAX_RELOAD,
    concerns: isUploadEvent,
  });
  return { uploads: items, ...list };
}

/**
 * One upload with its builds and Retry. Its own events and its builds' BUILD_* events read it again,
 * so state, reason and the builds' states stay current.
 */
export function useUpload(id: Ref<string>) {
  const upload = shallowRef<UploadWithBuilds | null>(null);
  const loading = ref(false);
  const loaded = ref(false);
  const error = ref<ApiError | null>(null);
  const retrying = ref(false);
  const retryError = ref<ApiError | null>(null);
  let generation = 0;

  async function load(): Promise<void> {
    const mine = ++generation;
    loading.value = true;
    try {
      const result = await client.query(UploadQuery, { id: id.value }, { requestPolicy: 'network-only' }).toPromise();
      if (mine !== generation) return;
      if (result.error) {
        error.value = toApiError(result.error);
        return;
      }
      error.value = null;
      upload.value = result.data?.upload ?? null;
    } finally {
      if (mine === generation) {
        loading.value = false;
        loaded.value = true;
      }
    }
  }

  async function retry(): Promise<void> {
    retrying.value = true;
    retryError.value = null;
    try {
      const result = await client.mutation(RetryUploadMutation, { id: id.value }).toPromise();
      if (result.error || !result.data) {
        retryError.value = result.error ? toApiError(result.error) : NO_ANSWER;
        return;
      }
      // The retry clears the builds of the attempt before: read it whole.
      await load();
    } finally {
      retrying.value = false;
    }
  }

  function concerns(event: DaemonEvent): boolean {
    if (eventUploadId(event) === id.value) return true;
    if (!isBuildEvent(event) || !upload.value) return false;
    const build = eventBuildId(event);
    return upload.value.builds.some((b) => b.id === build);
  }

  watch(
    id,
    () => {
      upload.value = null;
      loaded.value = false;
      retryError.value = null;
      void load();
    },
    { immediate: true },
  );
  const live = useBuildEvents(() => void load(), concerns);

  return { upload, loading, loaded, error, liveError: live.error, retrying, retryError, load, retry };
}
