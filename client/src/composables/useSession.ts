import { computed, readonly, ref } from 'vue';
import { client, onUnauthenticated } from '../api/client';
import { MeQuery, SignInMutation, SignOutMutation } from '../api/documents';
import { toApiError, type ApiError } from '../api/errors';
import { ROLES, type Role, type User } from '../api/types';
import { restartLiveConnection } from '../api/ws';

// One session per page: the cookie is shared by every tab component, so is this state.
const me = ref<User | null>(null);
const loaded = ref(false);
const loading = ref(false);
const error = ref<ApiError | null>(null);
let pending: Promise<void> | null = null;

// The cookie expired or was revoked elsewhere: show the visitor as signed out.
onUnauthenticated(() => {
  if (me.value) me.value = null;
});

async function refresh(): Promise<void> {
  loading.value = true;
  try {
    const result = await client.query(MeQuery, {}, { requestPolicy: 'network-only' }).toPromise();
    if (result.error) {
      // The daemon may be unreachable; treat the visitor as anonymous and say why.
      error.value = toApiError(result.error);
      me.value = null;
    } else {
      error.value = null;
      me.value = result.data?.me ?? null;
    }
  } finally {
    loaded.value = true;
    loading.value = false;
  }
}

/** Loads the signed-in user once; later calls wait for the same request. */
function ensureLoaded(): Promise<void> {
  if (loaded.value) return Promise.resolve();
  pending ??= refresh().finally(() => (pending = null));
  return pending;
}

/** Signs in; resolves to the error to show, or null on success. */
async function signIn(username: string, password: string): Promise<ApiError | null> {
  const result = await client.mutation(SignInMutation, { username, password }).toPromise();
  if (result.error || !result.data) {
    return result.error ? toApiError(result.error) : { message: 'The daemon sent no answer.', code: 'UNKNOWN' };
  }
  me.value = result.data.signIn;
  loaded.value = true;
  error.value = null;
  restartLiveConnection();
  return null;
}

async function signOut(): Promise<ApiError | null> {
  const result = await client.mutation(SignOutMutation, {}).toPromise();
  if (result.error) return toApiError(result.error);
  me.value = null;
  restartLiveConnection();
  return null;
}

/** Whether the signed-in user has at least `role` (ADMIN > STAFF > UPLOADER). */
function hasRole(user: User | null, role: Role): boolean {
  return user !== null && ROLES.indexOf(user.role) >= ROLES.indexOf(role);
}

export function useSession() {
  return {
    me: readonly(me),
    loaded: readonly(loaded),
    loading: readonly(loading),
    error: readonly(error),
    signedIn: computed(() => me.value !== null),
    isAdmin: computed(() => hasRole(me.value, 'ADMIN')),
    hasRole: (role: Role) => hasRole(me.value, role),
    ensureLoaded,
    refresh,
    signIn,
    signOut,
  };
}
