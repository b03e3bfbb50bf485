import { ref, shallowRef, watch, type Ref } from 'vue';
import { client } from '../api/client';
import { PackageQuery, PackagesQuery } from '../api/uploadDocuments';
import { toApiError, type ApiError } from '../api/errors';
import type { DaemonEvent, PackageSummary, PackageTracker } from '../api/types';
import { useBuildEvents } from './useBuilds';
import { isUploadEvent } from './useUploads';

export const PACKAGES_LIMIT = 200;
const NO_ANSWER: ApiError = { message: 'The daemon sent no answer.', code: 'UNKNOWN' };

/** Source packages uploaded here whose name contains `search`, most recently uploaded first; live. */
export function usePackages(search: Ref<string>) {
  const packages = shallowRef<PackageSummary[]>([]);
  const loading = ref(false);
  const loaded = ref(false);
  const error = ref<ApiError | null>(null);
  let generation = 0;

  async function load(): Promise<void> {
    const mine = ++generation;
    loading.value = true;
    try {
      const result = await client
        .query(
          PackagesQuery,
          { search: search.value.trim() || null, first: PACKAGES_LIMIT },
          { requestPolicy: 'network-only' },
        )
        .toPromise();
      if (mine !== generation) return;
      if (result.error || !result.data) {
        error.value = result.error ? toApiError(result.error) : NO_ANSWER;
        return;
      }
      error.value = null;
      packages.value = result.data.packages;
    } finally {
      if (mine === generation) {
        loading.value = false;
        loaded.value = true;
      }
    }
  }

  watch(search, () => void load(), { immediate: true });
  const live = useBuildEvents(() => void load(), isUploadEvent);
  return { packages, loading, loaded, error, liveError: live.error, load };
}

/** Whether `event` is about `source` (its payload names it). */
export const eventSource = (event: DaemonEvent): string | null =>
  typeof event.payload?.source === 'string' ? event.payload.source : null;

/** The package tracker of one source, read again on every event that names it. */
export function usePackageTracker(source: Ref<string>) {
  const tracker = shallowRef<PackageTracker | null>(null);
  const loading = ref(false);
  const error = ref<ApiError | null>(null);
  let generation = 0;

  async function load(): Promise<void> {
    const mine = ++generation;
    loading.value = true;
    try {
      const result = await client
        .query(PackageQuery, { source: source.value }, { requestPolicy: 'network-only' })
        .toPromise();
      if (mine !== generation) return;
      if (result.error || !result.data) {
        error.value = result.error ? toApiError(result.error) : NO_ANSWER;
        return;
      }
      error.value = null;
      tracker.value = result.data.package;
    } finally {
      if (mine === generation) loading.value = false;
    }
  }

  watch(
    source,
    () => {
      tracker.value = null;
      error.value = null;
      void load();
    },
    { immediate: true },
  );
  const live = useBuildEvents(
    () => void load(),
    (event) => eventSource(event) === source.value,
  );
  return { tracker, loading, error, liveError: live.error, load };
}
