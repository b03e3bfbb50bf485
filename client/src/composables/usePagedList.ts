import { ref, shallowRef, watch, type Ref } from 'vue';
import type { AnyVariables, TypedDocumentNode } from '@urql/core';
import { client } from '../api/client';
import { toApiError, type ApiError } from '../api/errors';
import type { DaemonEvent } from '../api/types';
import { useEventReload } from './useEventReload';
import { NO_ANSWER } from './useLatestQuery';

/** A page as the daemon's paged lists answer: newest first, ask for older ones with `before`. */
export interface Page<Item> {
  nodes: Item[];
  totalCount: number;
  hasMore: boolean;
}

export interface PagedListOptions<Item, Filter, Data> {
  query: TypedDocumentNode<Data, Filter & { first: number; before?: string | null } & AnyVariables>;
  /** The page in an answer (`data.builds`). */
  page: (data: Data) => Page<Item>;
  filter: Ref<Filter>;
  pageSize: number;
  /** A reload keeps the pages the reader loaded, up to this many items. */
  maxReload: number;
  /** The events after which the list is read again. */
  concerns: (event: DaemonEvent) => boolean;
}

/**
 * Items matching `filter`, newest first, with "older" paging, read again (keeping the pages shown)
 * shortly after the events that `concerns` picks.
 */
export function usePagedList<Item extends { id: string }, Filter, Data>(options: PagedListOptions<Item, Filter, Data>) {
  const { query, page, filter, pageSize, maxReload } = options;
  const items = shallowRef<Item[]>([]);
  const totalCount = ref<number | null>(null);
  const hasMore = ref(false);
  const loading = ref(false);
  const loadingOlder = ref(false);
  const error = ref<ApiError | null>(null);
  const olderError = ref<ApiError | null>(null);
  let generation = 0;

  const readPage = (first: number, before?: string) =>
    client
      .query(
        query,
        { ...filter.value, first, ...(before === undefined ? {} : { before }) },
        {
          requestPolicy: 'network-only',
        },
      )
      .toPromise();

  /** (Re)loads from the newest, as many as are shown now (at least a page). */
  async function load(keepPages = true): Promise<void> {
    const mine = ++generation;
    const first = keepPages ? Math.min(Math.max(items.value.length, pageSize), maxReload) : pageSize;
    loading.value = true;
    try {
      const result = await readPage(first);
      // An answer for the filters shown before must not overwrite the current one.
      if (mine !== generation) return;
      if (result.error || !result.data) {
        error.value = result.error ? toApiError(result.error) : NO_ANSWER;
        return;
      }
      error.value = null;
      const got = page(result.data);
      items.value = got.nodes;
      totalCount.value = got.totalCount;
      hasMore.value = got.hasMore;
    } finally {
      if (mine === generation) loading.value = false;
    }
  }

  async function loadOlder(): Promise<void> {
    const oldest = items.value.at(-1);
    if (!oldest || loadingOlder.value) return;
    const mine = generation;
    loadingOlder.value = true;
    olderError.value = null;
    try {
      const result = await readPage(pageSize, oldest.id);
      if (mine !== generation) return;
      if (result.error || !result.data) {
        olderError.value = result.error ? toApiError(result.error) : NO_ANSWER;
        return;
      }
      const got = page(result.data);
      const have = new Set(items.value.map((item) => item.id));
      items.value = [...items.value, ...got.nodes.filter((item) => !have.has(item.id))];
      hasMore.value = got.hasMore;
      totalCount.value = got.totalCount;
    } finally {
      loadingOlder.value = false;
    }
  }

  // By value: the route hands out a new filter object on every navigation.
  watch(
    () => JSON.stringify(filter.value),
    () => {
      items.value = [];
      totalCount.value = null;
      void load(false);
    },
    { immediate: true },
  );
  const live = useEventReload(() => void load(), options.concerns);

  return {
    items,
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
