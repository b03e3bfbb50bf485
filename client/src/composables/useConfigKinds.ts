import { computed, reactive, ref, shallowRef, watch } from 'vue';
import { client } from '../api/client';
import { ConfigKeysQuery, ConfigKindsQuery } from '../api/configDocuments';
import { toApiError, type ApiError } from '../api/errors';
import { CONFIG_KINDS, type ConfigField, type ConfigKind, type ConfigKindInfo } from '../api/types';

// The kinds and their fields do not change while the daemon runs: read them once per page load.
const kinds = shallowRef<ConfigKindInfo[]>([]);
const loading = ref(false);
const error = ref<ApiError | null>(null);
let pending: Promise<void> | null = null;

async function load(): Promise<void> {
  loading.value = true;
  try {
    const result = await client.query(ConfigKindsQuery, {}).toPromise();
    if (result.error) error.value = toApiError(result.error);
    else if (result.data) {
      error.value = null;
      kinds.value = result.data.configKinds;
    }
  } finally {
    loading.value = false;
  }
}

/** Every kind of configuration object with its fields (what a create form shows). */
export function useConfigKinds() {
  if (!kinds.value.length) pending ??= load().finally(() => (pending = null));
  return {
    kinds,
    /** The daemon's kinds once known, the console's own list until then. */
    kindNames: computed<ConfigKind[]>(() => (kinds.value.length ? kinds.value.map((k) => k.kind) : [...CONFIG_KINDS])),
    loading,
    error,
    info: (kind: ConfigKind | null): ConfigKindInfo | undefined => kinds.value.find((k) => k.kind === kind),
  };
}

/** The keys of the objects of `kind`, for REFERENCE fields; a failure leaves the list empty. */
export async function fetchConfigKeys(kind: ConfigKind): Promise<string[]> {
  const result = await client.query(ConfigKeysQuery, { kind }, { requestPolicy: 'network-only' }).toPromise();
  return result.data?.configObjects.map((o) => o.key) ?? [];
}

/** The keys every REFERENCE(_LIST) field of `fields` may point to, per kind; loaded when the fields change. */
export function useReferenceKeys(fields: () => ConfigField[]) {
  const keys = reactive<Partial<Record<ConfigKind, string[]>>>({});
  watch(
    () => [...new Set(fields().flatMap((f) => (f.refKind && !f.readOnly ? [f.refKind] : [])))].sort().join(' '),
    async (wanted) => {
      for (const kind of wanted.split(' ').filter(Boolean) as ConfigKind[]) {
        if (!keys[kind]) keys[kind] = await fetchConfigKeys(kind);
      }
    },
    { immediate: true },
  );
  return keys;
}
