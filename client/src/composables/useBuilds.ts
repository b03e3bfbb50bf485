import { getCurrentScope, onScopeDispose, ref, shallowRef, watch, type Ref } from 'vue';
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
import { useLiveEvents } from './useLiveEvents';
import { useLogStream } from './useLogStream';

export const BUILDS_PAGE_SIZE = 50;
/** A reload keeps the pages the reader loaded, up to this many builds. */
const MAX_RELOAD = 500;
const RELOAD_DELAY_MS = 250;

const NO_ANSWER: ApiError = { message: 'The daemon sent no answer.', code: 'UNKNOWN' };

export const isBuildEvent = (event: DaemonEvent): boolean => event.type.startsWith('BUILD_');

/** The build id a BUILD_* event is about. */
export function eventBuildId(event: DaemonEvent): string | null {
  const id = event.payload?.build;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : null;
}

/**
 * Calls `reload` shortly after BUILD_* events that `match` (several events of one build come
 * together: one reload is enough).
 */
export function useBuildEvents(reload: () => void, match: (event: DaemonEvent) => boolean = isBuildEvent) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const live = useLiveEvents((event) => {
    if (!match(event)) return;
    clearTimeout(timer);
    timer = setTimeout(reload, RELOAD_DELAY_MS);
  });
  void live.start();
  if (getCurrentScope()) onScopeDispose(() => clearTimeout(timer));
  return live;
}

/** Builds matching `filter`, newest first, with "older" paging, reloaded on BUILD_* events. */
export function useBuilds(filter: Ref<BuildFilter>) {
  const builds = shallowRef<Build[]>([]);
  const totalCount = ref<number | null>(null);
  const hasMore = ref(false);
  const loading = ref(false);
  const loadingOlder = ref(false);
  const error = ref<ApiError | null>(null);
  const olderError = ref<ApiError | null>(null);
  let generation = 0;

  /** (Re)loads from the newest, as many as are shown now (at least a page). */
  async function load(keepPages = true): Promise<void> {
    const mine = ++generation;
    const first = keepPages ? Math.min(Math.max(builds.value.length, BUILDS_PAGE_SIZE), MAX_RELOAD) : BUILDS_PAGE_SIZE;
    loading.value = true;
    try {
      const result = await client
        .query(BuildsQuery, { ...filter.value, first }, { requestPolicy: 'network-only' })
        .toPromise();
      // An answer for the filters shown before must not overwrite the current one.
      if (mine !== generation) return;
      if (result.error || !result.data) {
        error.value = result.error ? toApiError(result.error) : NO_ANSWER;
        return;
      }
      error.value = null;
      builds.value = result.data.builds.nodes;
      totalCount.value = result.data.builds.totalCount;
      hasMore.value = result.data.builds.hasMore;
    } finally {
      if (mine === generation) loading.value = false;
    }
  }

  async function loadOlder(): Promise<void> {
    const oldest = builds.value.at(-1);
    if (!oldest || loadingOlder.value) return;
    const mine = generation;
    loadingOlder.value = true;
    olderError.value = null;
    try {
      const result = await client
        .query(
          BuildsQuery,
          { ...filter.value, first: BUILDS_PAGE_SIZE, before: oldest.id },
          { requestPolicy: 'network-only' },
        )
        .toPromise();
      if (mine !== generation) return;
      if (result.error || !result.data) {
        olderError.value = result.error ? toApiError(result.error) : NO_ANSWER;
        return;
      }
      const have = new Set(builds.value.map((b) => b.id));
      builds.value = [...builds.value, ...result.data.builds.nodes.filter((b) => !have.has(b.id))];
      hasMore.value = result.data.builds.hasMore;
      totalCount.value = result.data.builds.totalCount;
    } finally {
      loadingOlder.value = false;
    }
  }

  // By value: the route hands out a new filter object on every navigation.
  watch(
    () => JSON.stringify(filter.value),
    () => {
      builds.value = [];
      totalCount.value = null;
      void load(false);
    },
    { immediate: true },
  );
  const live = useBuildEvents(() => void load());

  return {
    builds,
    totalCount,
    hasMore,
    loading,
    loadingOlder,
    error,
    olderError,
    liveError: live.error,
    load,
    loadOlder,
  };
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
