import { ref, watchEffect } from 'vue';
import { client } from '../api/client';
import { IdentityQuery } from '../api/documents';

const identity = ref<string | null>(null);
const version = ref<string | null>(null);
let requested = false;

/** The instance's identity and version for the header and the page title; fetched once. */
export function useInstance() {
  if (!requested) {
    requested = true;
    void client
      .query(IdentityQuery, {})
      .toPromise()
      .then((result) => {
        if (result.data) {
          identity.value = result.data.status.identity;
          version.value = result.data.status.version;
        } else {
          // Try again on the next use, e.g. after the daemon comes back.
          requested = false;
        }
      });
  }
  return { identity, version };
}

/** Keeps `document.title` as "<page> · <identity>". */
export function usePageTitle(page: () => string | undefined) {
  const { identity } = useInstance();
  watchEffect(() => {
    document.title = [page(), identity.value ?? 'debyard'].filter(Boolean).join(' · ');
  });
}
