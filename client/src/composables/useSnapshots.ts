import { ref, shallowRef } from 'vue';
import { client } from '../api/client';
import {
  CreateSnapshotMutation,
  DeleteSnapshotMutation,
  SnapshotsQuery,
  type Snapshot,
} from '../api/deliveryDocuments';
import { toApiError, type ApiError } from '../api/errors';
import { useEventReload } from './useEventReload';
import { NO_ANSWER } from './useLatestQuery';

/**
 * The snapshots of one repository, newest first, read again on SNAPSHOT_* events (a schedule or
 * another console may make or delete one); `create` and `remove` for admins.
 */
export function useSnapshots(repository: () => string) {
  const snapshots = shallowRef<Snapshot[]>([]);
  const loaded = ref(false);
  const error = ref<ApiError | null>(null);
  const busy = ref(false);
  const actionError = ref<ApiError | null>(null);

  async function load(): Promise<void> {
    const result = await client
      .query(SnapshotsQuery, { repository: repository() }, { requestPolicy: 'network-only' })
      .toPromise();
    error.value = result.error ? toApiError(result.error) : null;
    if (result.data) snapshots.value = result.data.snapshots;
    loaded.value = true;
  }

  async function act<T>(run: () => Promise<{ error?: unknown; data?: T }>): Promise<T | null> {
    busy.value = true;
    actionError.value = null;
    try {
      const result = await run();
      if (result.error || !result.data) {
        actionError.value = result.error ? toApiError(result.error) : NO_ANSWER;
        return null;
      }
      await load();
      return result.data;
    } finally {
      busy.value = false;
    }
  }

  const create = (distribution: string, name: string, expiresAt: string | null) =>
    act(() => client.mutation(CreateSnapshotMutation, { distribution, name, expiresAt }).toPromise());
  const remove = (s: Snapshot) =>
    act(() => client.mutation(DeleteSnapshotMutation, { distribution: s.distribution, name: s.name }).toPromise());

  const live = useEventReload(
    () => void load(),
    (e) => e.type.startsWith('SNAPSHOT_') && e.payload?.repository === repository(),
  );
  void load();
  return { snapshots, loaded, error, liveError: live.error, busy, actionError, load, create, remove };
}
