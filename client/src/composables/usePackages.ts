import { shallowRef, watch, type Ref } from 'vue';
import { PackageQuery, PackagesQuery } from '../api/uploadDocuments';
import type { DaemonEvent, PackageSummary, PackageTracker } from '../api/types';
import { useBuildEvents } from './useBuilds';
import { useLatestQuery } from './useLatestQuery';
import { isUploadEvent } from './useUploads';

export const PACKAGES_LIMIT = 200;

/** Source packages uploaded here whose name contains `search`, most recently uploaded first; live. */
export function usePackages(search: Ref<string>) {
  const packages = shallowRef<PackageSummary[]>([]);
  const { loading, loaded, error, load } = useLatestQuery(
    PackagesQuery,
    () => ({ search: search.value.trim() || null, first: PACKAGES_LIMIT }),
    (data) => (packages.value = data.packages),
  );

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
  const { loading, error, load } = useLatestQuery(
    PackageQuery,
    () => ({ source: source.value }),
    (data) => (tracker.value = data.package),
  );

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
