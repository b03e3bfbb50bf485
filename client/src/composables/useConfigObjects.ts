import { getCurrentScope, onScopeDispose, reactive, ref, shallowRef, watch, type Ref } from 'vue';
import { client } from '../api/client';
import { ConfigActionMutation, ConfigObjectsQuery } from '../api/configDocuments';
import { toApiError, type ApiError } from '../api/errors';
import type { ConfigKind, ConfigObject, LifecycleAction } from '../api/types';
import { enumLabel } from '../util/config';
import { useLiveEvents } from './useLiveEvents';

/** What the last lifecycle action on one object did: shown on its row. */
export interface ActionState {
  busy: LifecycleAction | null;
  done: { action: LifecycleAction; message: string } | null;
  error: (ApiError & { action: LifecycleAction }) | null;
}

const RELOAD_DELAY_MS = 250;

/** One line for people: "PCA: active, checked". */
export function describeOutcome(action: LifecycleAction, o: ConfigObject): string {
  const state = [o.status, o.checkState].filter(Boolean).map((s) => enumLabel(s!));
  return `${action === 'PCA' ? 'PCA' : enumLabel(action)}: ${state.join(', ')}${o.problem ? ` (${o.problem})` : ''}`;
}

/** Runs lifecycle actions and keeps, per object key, what the last one did. */
export function useConfigActions(onDone: (o: ConfigObject) => void) {
  const states = reactive<Record<string, ActionState>>({});

  function stateOf(key: string): ActionState {
    return (states[key] ??= { busy: null, done: null, error: null });
  }

  async function run(kind: ConfigKind, key: string, action: LifecycleAction): Promise<void> {
    const state = stateOf(key);
    state.busy = action;
    state.error = null;
    state.done = null;
    try {
      const result = await client.mutation(ConfigActionMutation, { kind, key, action }).toPromise();
      if (result.error || !result.data) {
        const error = result.error
          ? toApiError(result.error)
          : { message: 'The daemon sent no answer.', code: 'UNKNOWN' };
        state.error = { ...error, action };
        return;
      }
      state.done = { action, message: describeOutcome(action, result.data.configAction) };
      onDone(result.data.configAction);
    } finally {
      state.busy = null;
    }
  }

  return { stateOf, run };
}

/**
 * The objects of one kind, reloaded when the kind changes and whenever a configuration event says
 * something changed (an edit elsewhere marks dependants changed; another admin runs a check).
 */
export function useConfigObjects(kind: Ref<ConfigKind | null>) {
  const objects = shallowRef<ConfigObject[]>([]);
  const loading = ref(false);
  const error = ref<ApiError | null>(null);
  let reloadTimer: ReturnType<typeof setTimeout> | undefined;
  let generation = 0;

  async function load(): Promise<void> {
    const wanted = kind.value;
    if (!wanted) return;
    const mine = ++generation;
    loading.value = true;
    try {
      const result = await client
        .query(ConfigObjectsQuery, { kind: wanted }, { requestPolicy: 'network-only' })
        .toPromise();
      // A slower answer for the kind shown before must not overwrite the current one.
      if (mine !== generation) return;
      if (result.error) error.value = toApiError(result.error);
      else if (result.data) {
        error.value = null;
        objects.value = result.data.configObjects;
      }
    } finally {
      if (mine === generation) loading.value = false;
    }
  }

  function replace(updated: ConfigObject): void {
    if (updated.kind !== kind.value) return;
    objects.value = objects.value.map((o) => (o.key === updated.key ? updated : o));
  }

  const actions = useConfigActions(replace);
  const live = useLiveEvents((event) => {
    if (!event.type.startsWith('CONFIG_') && event.type !== 'SETUP_APPLIED') return;
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => void load(), RELOAD_DELAY_MS);
  });

  watch(
    kind,
    () => {
      objects.value = [];
      void load();
    },
    { immediate: true },
  );
  void live.start();
  if (getCurrentScope()) onScopeDispose(() => clearTimeout(reloadTimer));

  return {
    objects,
    loading,
    error,
    load,
    actionState: actions.stateOf,
    runAction: (key: string, action: LifecycleAction) =>
      kind.value ? actions.run(kind.value, key, action) : Promise.resolve(),
  };
}
