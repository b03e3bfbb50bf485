import { ref, shallowRef } from 'vue';
import { client } from '../api/client';
import {
  DputConfigQuery,
  RepositoriesQuery,
  RepositorySourcesQuery,
  type RepositorySources,
} from '../api/configDocuments';
import { toApiError, type ApiError } from '../api/errors';
import type { ArchiveKey, ConfigObject } from '../api/types';

/** What apt and dput users need: the repositories, the key that signs them, a dput.cf section. */
export function useRepositories() {
  const repositories = shallowRef<ConfigObject[]>([]);
  const archiveKey = shallowRef<ArchiveKey | null>(null);
  const dputConfig = ref<string | null>(null);
  const loading = ref(false);
  const loaded = ref(false);
  const error = ref<ApiError | null>(null);
  const dputError = ref<ApiError | null>(null);

  async function load(): Promise<void> {
    loading.value = true;
    try {
      const [main, dput] = await Promise.all([
        client.query(RepositoriesQuery, {}, { requestPolicy: 'network-only' }).toPromise(),
        client.query(DputConfigQuery, {}, { requestPolicy: 'network-only' }).toPromise(),
      ]);
      if (main.error) error.value = toApiError(main.error);
      else if (main.data) {
        error.value = null;
        repositories.value = main.data.configObjects.filter((r) => r.status !== 'REMOVED');
        archiveKey.value = main.data.archiveKey;
      }
      dputError.value = dput.error ? toApiError(dput.error) : null;
      dputConfig.value = dput.data?.dputConfig ?? null;
      loaded.value = true;
    } finally {
      loading.value = false;
    }
  }

  void load();
  return { repositories, archiveKey, dputConfig, loading, loaded, error, dputError, load };
}

/** The apt lines of one repository, both formats at once so the toggle does not wait. */
export function useRepositorySources(repository: () => string) {
  const sources = shallowRef<RepositorySources | null>(null);
  const error = ref<ApiError | null>(null);
  const loading = ref(false);

  async function load(): Promise<void> {
    loading.value = true;
    try {
      const result = await client
        .query(RepositorySourcesQuery, { repository: repository() }, { requestPolicy: 'network-only' })
        .toPromise();
      if (result.error) error.value = toApiError(result.error);
      else if (result.data) {
        error.value = null;
        sources.value = result.data;
      }
    } finally {
      loading.value = false;
    }
  }

  void load();
  return { sources, error, loading, load };
}
