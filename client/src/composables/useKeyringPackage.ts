import { ref, shallowRef } from 'vue';
import { client } from '../api/client';
import {
  BuildKeyringPackagesMutation,
  KeyringPackageQuery,
  type KeyringPackage,
  type KeyringTarget,
} from '../api/deliveryDocuments';
import { toApiError, type ApiError } from '../api/errors';
import { NO_ANSWER } from './useLatestQuery';

/**
 * The keyring package: what it is and where it is built; `build` (admins) uploads it where it is not up
 * to date, migrated along its suite's chain once installed unless `withoutMigration`.
 */
export function useKeyringPackage() {
  const info = shallowRef<KeyringPackage | null>(null);
  const error = ref<ApiError | null>(null);
  const results = shallowRef<KeyringTarget[]>([]);
  const busy = ref(false);
  const buildError = ref<ApiError | null>(null);

  async function load(): Promise<void> {
    const result = await client.query(KeyringPackageQuery, {}, { requestPolicy: 'network-only' }).toPromise();
    error.value = result.error ? toApiError(result.error) : null;
    info.value = result.data?.keyringPackage ?? null;
  }

  async function build(opts: { withoutMigration?: boolean } = {}): Promise<void> {
    busy.value = true;
    buildError.value = null;
    try {
      const result = await client
        .mutation(BuildKeyringPackagesMutation, { withoutMigration: opts.withoutMigration ?? false })
        .toPromise();
      if (result.error || !result.data) buildError.value = result.error ? toApiError(result.error) : NO_ANSWER;
      else results.value = result.data.buildKeyringPackages;
      await load();
    } finally {
      busy.value = false;
    }
  }

  void load();
  return { info, error, results, busy, buildError, load, build };
}
