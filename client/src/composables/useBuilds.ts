import { ref, shallowRef, watch, type Ref } from 'vue';
import { client } from '../api/client';
import {
  BuildLogSubscription,
  BuildQuery,
  BuildsQuery,
  CancelBuildMutation,
  RetryBuildMutation,
} from '../api/buildDocuments';
import { toApiError, type ApiError } from '../api/errors';
import type { Build, BuildFilter, DaemonEvent } from '../api/types';
import { useEventReload } from './useEventReload';
import { NO_ANSWER } from './useLatestQuery';
import { useLogStream } from './useLogStream';
import { usePagedList } from './usePagedList';

export const BUILDS_PAGE_SIZE = 50;
/** A reload keeps the pages the reader loaded, up to this many builds. */
const MAX_RELOAD = 500;

export const isBuildEvent = (event: DaemonEvent): boolean => event.type.startsWith('BUILD_');

/** The build id a BUILD_* event is about. */
export function eventBuildId(event: DaemonEvent): string | null {
  const id = event.payload?.build;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : null;
}

/** Calls `reload` shortly after BUILD_* events that `match`. */
export function useBuildEvents(reload: () => void, match: (event: DaemonEvent) => boolean = isBuildEvent) {
  return useEventReload(reload, match);
}

/** Builds matching `filter`, newest first, with "older" paging, reloaded on BUILD_* events. */
export function useBuilds(filter: Ref<BuildFilter>) {
  const { items, ...list } = usePagedList({
    query: BuildsQuery,
    page: (data) => data.builds,
    filter,
    pageSize: BUILDS_PAGE_SIZE,
    maxReload: MAX_RELOAD,
    concerns: isBuildEvent,
  });
  return { builds: items, ...list };
}

/**
 * One build, its log streamed from the start, Cancel and Retry. When the log ends the build is read
 * again to show its result; BUILD_* events about it keep the header current.
 */
export function useBuild(id: Ref<string>) {
  const build = shallowRef<Build | null>(null);
  const loading = ref(false);
  const loaded = ref(false);
  const error = ref<ApiError | null>(null);
  const busy = ref<'cancel' | 'retry' | null>(null);
  const actionError = ref<(ApiError & { action: 'cancel' | 'retry' }) | null>(null);
  let generation = 0;

  const log = useLogStream({
    query: BuildLogSubscription,
    variables: (offset) => ({ id: id.value, offset }),
    chunk: (data) => data.buildLog,
    onDone: () => void load(),
  });

  async function load(): Promise<void> {
    const mine = ++generation;
    loading.value = true;
    try {
      const result = await client.query(BuildQuery, { id: id.value }, { requestPolicy: 'network-only' }).toPromise();
      if (mine !== generation) return;
      if (result.error) {
        error.value = toApiError(result.error);
        return;
      }
      error.value = null;
      const previous = build.value;
      build.value = result.data?.build ?? null;
      // A retry starts a new attempt with a new log.
      if (previous && build.value && build.value.attempt !== previous.attempt && log.done.value) log.start();
    } finally {
      if (mine === generation) {
        loading.value = false;
        loaded.value = true;
      }
    }
  }

  async function act(action: 'cancel' | 'retry'): Promise<Build | null> {
    busy.value = action;
    actionError.value = null;
    try {
      const result =
        action === 'cancel'
          ? await client.mutation(CancelBuildMutation, { id: id.value }).toPromise()
          : await client.mutation(RetryBuildMutation, { id: id.value }).toPromise();
      const data = result.data as { cancelBuild?: Build; retryBuild?: Build } | undefined;
      const next = data?.cancelBuild ?? data?.retryBuild;
      if (result.error || !next) {
        actionError.value = { ...(result.error ? toApiError(result.error) : NO_ANSWER), action };
        return null;
      }
      if (next.id === id.value) {
        const restarted = build.value !== null && next.attempt !== build.value.attempt;
        build.value = next;
        if (restarted || (action === 'retry' && log.done.value)) log.start();
      }
      return next;
    } finally {
      busy.value = null;
    }
  }

  watch(
    id,
    () => {
      build.value = null;
      loaded.value = false;
      actionError.value = null;
      void load();
      log.start();
    },
    { immediate: true },
  );
  useBuildEvents(
    () => void load(),
    (event) => isBuildEvent(event) && eventBuildId(event) === id.value,
  );

  return {
    build,
    loading,
    loaded,
    error,
    log,
    busy,
    actionError,
    load,
    cancel: () => act('cancel'),
    retry: () => act('retry'),
  };
}
