import { ref, shallowRef, watch, type Ref } from 'vue';
import { client } from '../api/client';
import { toApiError, type ApiError } from '../api/errors';
import {
  DebdiffQuery,
  MigrateMutation,
  RemoveMutation,
  RepositoryBrowserQuery,
  RestoreMutation,
  StagingPlanQuery,
} from '../api/stagingDocuments';
import type { DaemonEvent, DebdiffResult, RepositoryBrowser, RepositoryChange, StagingRequest } from '../api/types';
import { useEventReload } from './useEventReload';
import { NO_ANSWER, useLatestQuery } from './useLatestQuery';

/** Events after which what a repository holds may have changed. */
export const REPOSITORY_EVENT_TYPES = ['INSTALLED', 'MIGRATED', 'REMOVED', 'RESTORED'];

/** Every package of one repository (codename × suite × package, versions and rollbacks); live. */
export function useRepositoryBrowser(repository: Ref<string>) {
  const browser = shallowRef<RepositoryBrowser | null>(null);
  const { loading, loaded, error, load } = useLatestQuery(
    RepositoryBrowserQuery,
    () => ({ repository: repository.value }),
    (data) => (browser.value = data.repositoryBrowser),
  );
  watch(
    repository,
    () => {
      browser.value = null;
      void load();
    },
    { immediate: true },
  );
  const live = useEventReload(
    () => void load(),
    (event: DaemonEvent) =>
      REPOSITORY_EVENT_TYPES.includes(event.type) &&
      (event.payload?.repository === undefined || event.payload.repository === repository.value),
  );
  return { browser, loading, loaded, error, liveError: live.error, load };
}

/**
 * One migrate / remove / restore in two steps: `open` asks the daemon what it would do (for a
 * migration with its dependency check), refused with the daemon's reason; `apply` does it (a
 * migration with unsatisfied dependencies only with `force`).
 */
export function useStagingAction() {
  const request = shallowRef<StagingRequest | null>(null);
  const plan = shallowRef<RepositoryChange | null>(null);
  const done = shallowRef<RepositoryChange | null>(null);
  const busy = ref(false);
  const error = ref<ApiError | null>(null);

  async function open(req: StagingRequest): Promise<void> {
    request.value = req;
    plan.value = null;
    done.value = null;
    error.value = null;
    busy.value = true;
    try {
      const result = await client
        .query(
          StagingPlanQuery,
          { ...req, checkDependencies: req.action === 'MIGRATE' },
          { requestPolicy: 'network-only' },
        )
        .toPromise();
      if (request.value !== req) return;
      if (result.error || !result.data) error.value = result.error ? toApiError(result.error) : NO_ANSWER;
      else plan.value = result.data.stagingPlan;
    } finally {
      if (request.value === req) busy.value = false;
    }
  }

  async function apply(force = false): Promise<void> {
    const req = request.value;
    if (!req || !plan.value) return;
    busy.value = true;
    error.value = null;
    try {
      const result =
        req.action === 'MIGRATE'
          ? await client
              .mutation(MigrateMutation, {
                source: req.source,
                distribution: req.distribution,
                version: plan.value.version,
                full: req.full ?? false,
                force,
              })
              .toPromise()
          : req.action === 'REMOVE'
            ? await client
                .mutation(RemoveMutation, {
                  source: req.source,
                  distribution: req.distribution,
                  version: plan.value.version,
                  keepRollback: req.keepRollback ?? true,
                })
                .toPromise()
            : await client
                .mutation(RestoreMutation, {
                  source: req.source,
                  distribution: req.distribution,
                  rollback: req.rollback ?? 0,
                })
                .toPromise();
      const data = result.data as Record<string, RepositoryChange> | undefined;
      const change = data && Object.values(data)[0];
      if (result.error || !change) error.value = result.error ? toApiError(result.error) : NO_ANSWER;
      else done.value = change;
    } finally {
      busy.value = false;
    }
  }

  function close(): void {
    request.value = null;
    plan.value = null;
    done.value = null;
    error.value = null;
  }

  return { request, plan, done, busy, error, open, apply, close };
}

/** debdiff between two versions of a source, on demand. */
export function useDebdiff() {
  const result = shallowRef<DebdiffResult | null>(null);
  const busy = ref(false);
  const error = ref<ApiError | null>(null);

  async function run(source: string, from: string, to: string, repository?: string | null): Promise<void> {
    busy.value = true;
    error.value = null;
    result.value = null;
    try {
      const r = await client
        .query(DebdiffQuery, { source, from, to, repository }, { requestPolicy: 'network-only' })
        .toPromise();
      if (r.error || !r.data) error.value = r.error ? toApiError(r.error) : NO_ANSWER;
      else result.value = r.data.debdiff;
    } finally {
      busy.value = false;
    }
  }

  return { result, busy, error, run };
}
