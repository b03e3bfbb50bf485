import { computed, getCurrentScope, onScopeDispose, reactive, ref, shallowRef, watch } from 'vue';
import { client } from '../api/client';
import { BuildersQuery, ChrootLogSubscription, TestBuildMutation } from '../api/buildDocuments';
import { toApiError, type ApiError } from '../api/errors';
import type { MutationTestBuildArgs } from '../gql/schema';
import type { Build, Builders, ConfigObject } from '../api/types';
import { useBuildEvents } from './useBuilds';
import { useLatestQuery } from './useLatestQuery';
import { useLogStream } from './useLogStream';

/** How far back the chart goes. */
export const HISTORY_HOURS = 6;
const QUEUE_SIZE = 50;
/** Load and history change without events (samples are taken on a clock): read them again now and then. */
const POLL_MS = 30_000;

/**
 * The builders (slots, load, running builds, history) and the queue, read again on BUILD_* and
 * CONFIG_* events (a chroot that comes or goes changes what can build) and every half minute.
 */
export function useBuilders() {
  const builders = shallowRef<Builders | null>(null);
  /** Queued builds, the next to start first. */
  const queue = shallowRef<Build[]>([]);
  const queueTotal = ref(0);
  const { loading, error, load } = useLatestQuery(
    BuildersQuery,
    () => ({ hours: HISTORY_HOURS, queueSize: QUEUE_SIZE }),
    (data) => {
      builders.value = data.builders;
      queue.value = [...data.queue.nodes].reverse();
      queueTotal.value = data.queue.totalCount;
    },
  );

  void load();
  const live = useBuildEvents(
    () => void load(),
    (event) => event.type.startsWith('BUILD_') || event.type.startsWith('CONFIG_'),
  );
  const timer = setInterval(() => {
    if (document.visibilityState === 'visible') void load();
  }, POLL_MS);
  if (getCurrentScope()) onScopeDispose(() => clearInterval(timer));

  return { builders, queue, queueTotal, loading, error, liveError: live.error, load };
}

export type TestBuildInput = MutationTestBuildArgs;

/** An administrator's test build: a .dsc (URL or path on the server) built, never installed. */
export function useTestBuild() {
  const input = reactive<TestBuildInput>({ dsc: '', distribution: '', architecture: '' });
  const submitting = ref(false);
  const error = ref<ApiError | null>(null);
  const queued = shallowRef<Build | null>(null);

  async function submit(): Promise<Build | null> {
    submitting.value = true;
    error.value = null;
    queued.value = null;
    try {
      // Sent as typed (trimmed): the daemon's validation names what is wrong.
      const result = await client
        .mutation(TestBuildMutation, {
          dsc: input.dsc.trim(),
          distribution: input.distribution.trim(),
          architecture: input.architecture.trim(),
        })
        .toPromise();
      if (result.error || !result.data) {
        error.value = result.error
          ? toApiError(result.error)
          : { message: 'The daemon sent no answer.', code: 'UNKNOWN' };
        return null;
      }
      queued.value = result.data.testBuild;
      return result.data.testBuild;
    } finally {
      submitting.value = false;
    }
  }

  return { input, submitting, error, queued, submit };
}

/** A field's value of a configuration object (chroots' size, phase, …), or null. */
export function fieldOf(object: ConfigObject, name: string): unknown {
  return object.fields.find((f) => f.name === name)?.value ?? null;
}

/** What a chroot is doing now ("creating", "updating", …) or null when idle. */
export function chrootPhase(chroot: ConfigObject): string | null {
  const phase = fieldOf(chroot, 'phase');
  return typeof phase === 'string' && phase ? phase : null;
}

/** Time for the daemon to set a chroot's phase after an action starts, before the log is asked again. */
const PHASE_WAIT_MS = 750;

/**
 * The output of one chroot's create/update, streamed while it runs. Follows the first chroot that
 * is busy unless the reader picked one or closed the panel. `running(key)` says a lifecycle action
 * started here runs on that chroot: the daemon announces the phase only when the action ends, so
 * while it runs the log is asked again whenever it says it is complete.
 */
export function useChrootOutput(chroots: () => ConfigObject[], running: (key: string) => boolean) {
  /** undefined: follow the busy chroot; null: closed; a key: the reader's choice. */
  const picked = ref<string | null | undefined>(undefined);
  const busyKey = computed(() => chroots().find((c) => chrootPhase(c) !== null)?.key ?? null);
  const key = computed(() => (picked.value === undefined ? busyKey.value : picked.value));
  const phaseOfKey = (k: string | null): string | null => {
    const chroot = k ? chroots().find((c) => c.key === k) : undefined;
    return chroot ? chrootPhase(chroot) : null;
  };
  let again: ReturnType<typeof setTimeout> | undefined;

  function askAgainLater(): void {
    clearTimeout(again);
    again = setTimeout(() => {
      if (key.value && running(key.value) && log.done.value) log.resume();
    }, PHASE_WAIT_MS);
  }

  const log = useLogStream({
    query: ChrootLogSubscription,
    variables: (offset) => ({ key: key.value ?? '', offset }),
    chunk: (data) => data.chrootLog,
    onDone: () => {
      if (key.value && running(key.value)) askAgainLater();
    },
  });

  watch(
    key,
    (next) => {
      clearTimeout(again);
      if (next) log.start();
      else log.stop();
    },
    { immediate: true },
  );
  // Another chroot gets busy after the reader closed the panel: follow that one again.
  watch(busyKey, (next, before) => {
    if (next && next !== before && picked.value === null) picked.value = undefined;
  });
  // The chroot shown starts a new job (an action here, or a prepare elsewhere): follow its new log.
  watch(
    () => phaseOfKey(key.value) !== null || (key.value !== null && running(key.value)),
    (busy, before) => {
      if (busy && !before && log.done.value) askAgainLater();
    },
  );
  if (getCurrentScope()) onScopeDispose(() => clearTimeout(again));

  return {
    key,
    log,
    pick: (next: string) => (picked.value = next),
    close: () => (picked.value = null),
  };
}
