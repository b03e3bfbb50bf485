import { ref, shallowRef } from 'vue';
import type { AnyVariables, OperationResult, TypedDocumentNode } from '@urql/core';
import { client } from '../api/client';
import { toApiError, type ApiError } from '../api/errors';
import {
  ActivateKeyMutation,
  AddKeyMutation,
  ApproveUserMutation,
  DeactivateKeyMutation,
  MyKeysQuery,
  RejectUserMutation,
  RemoveKeyMutation,
  SignUpMutation,
  SignUpPolicyQuery,
  SignUpRequestsQuery,
  TokenCreateMutation,
  TokenRevokeMutation,
  TokensQuery,
  UploaderKeysQuery,
  UserSetActiveMutation,
  UserSetPasswordMutation,
  UserSetRoleMutation,
  UsersQuery,
  type Account,
  type SignUpPolicy,
  type Token,
  type UploaderKey,
} from '../api/accountDocuments';
import type { Role } from '../api/types';
import { NO_ANSWER } from './useLatestQuery';

/** Runs a mutation; resolves to its data, or sets `error` and resolves to null. */
async function mutate<D, V extends AnyVariables>(
  doc: TypedDocumentNode<D, V>,
  variables: V,
  error: { value: ApiError | null },
): Promise<D | null> {
  const result: OperationResult<D, V> = await client.mutation(doc, variables).toPromise();
  if (result.error || !result.data) {
    error.value = result.error ? toApiError(result.error) : NO_ANSWER;
    return null;
  }
  error.value = null;
  return result.data;
}

async function read<D, V extends AnyVariables>(
  doc: TypedDocumentNode<D, V>,
  variables: V,
): Promise<OperationResult<D, V>> {
  return client.query(doc, variables, { requestPolicy: 'network-only' }).toPromise();
}

/** The sign-up form: the daemon's policy, submit, the account made (PENDING or ACTIVE) and the error to show. */
export function useSignUp() {
  const policy = ref<SignUpPolicy | null>(null);
  const created = shallowRef<Account | null>(null);
  const loading = ref(false);
  const error = ref<ApiError | null>(null);

  async function loadPolicy(): Promise<void> {
    const result = await read(SignUpPolicyQuery, {});
    policy.value = result.data?.signUpPolicy ?? null;
    if (result.error) error.value = toApiError(result.error);
  }

  async function submit(username: string, password: string, email: string): Promise<boolean> {
    loading.value = true;
    try {
      const data = await mutate(SignUpMutation, { username, password, email: email.trim() || null }, error);
      created.value = data?.signUp ?? null;
      return data !== null;
    } finally {
      loading.value = false;
    }
  }

  return { policy, created, loading, error, loadPolicy, submit };
}

/** The signed-in user's uploader keys: list, add (armored text), remove. */
export function useMyKeys() {
  const keys = shallowRef<UploaderKey[]>([]);
  const loading = ref(false);
  const busy = ref(false);
  const error = ref<ApiError | null>(null);

  async function load(): Promise<void> {
    loading.value = true;
    try {
      const result = await read(MyKeysQuery, {});
      if (result.error) error.value = toApiError(result.error);
      keys.value = result.data?.myKeys ?? [];
    } finally {
      loading.value = false;
    }
  }

  async function change<D>(run: () => Promise<D | null>): Promise<boolean> {
    busy.value = true;
    try {
      const ok = (await run()) !== null;
      if (ok) await load();
      return ok;
    } finally {
      busy.value = false;
    }
  }

  const add = (armored: string) => change(() => mutate(AddKeyMutation, { armored }, error));
  const remove = (fingerprint: string) => change(() => mutate(RemoveKeyMutation, { fingerprint }, error));

  return { keys, loading, busy, error, load, add, remove };
}

/**
 * The signed-in user's API tokens (an administrator's `tokens` holds everybody's: only `username`'s are
 * kept). `created` holds the secret of the token just made, which the daemon shows this once.
 */
export function useMyTokens(username: () => string | null) {
  const tokens = shallowRef<Token[]>([]);
  const created = ref<{ name: string; secret: string } | null>(null);
  const loading = ref(false);
  const busy = ref(false);
  const error = ref<ApiError | null>(null);

  async function load(): Promise<void> {
    loading.value = true;
    try {
      const result = await read(TokensQuery, {});
      if (result.error) error.value = toApiError(result.error);
      tokens.value = (result.data?.tokens ?? []).filter((t) => t.username === username());
    } finally {
      loading.value = false;
    }
  }

  async function create(name: string, expiresInDays: number | null): Promise<boolean> {
    busy.value = true;
    try {
      const data = await mutate(TokenCreateMutation, { name, expiresInDays }, error);
      if (!data) return false;
      created.value = { name: data.tokenCreate.token.name, secret: data.tokenCreate.secret };
      await load();
      return true;
    } finally {
      busy.value = false;
    }
  }

  async function revoke(id: string): Promise<void> {
    busy.value = true;
    try {
      if (await mutate(TokenRevokeMutation, { id }, error)) await load();
    } finally {
      busy.value = false;
    }
  }

  return { tokens, created, loading, busy, error, load, create, revoke };
}

/**
 * The administration page's data: sign-ups and uploader keys for staff, every user for admins. Each
 * action reloads what it changed; `error` is the last refusal, with its code.
 */
export function useAdministration(isAdmin: () => boolean) {
  const requests = shallowRef<Account[]>([]);
  const users = shallowRef<Account[]>([]);
  const keys = shallowRef<UploaderKey[]>([]);
  const busy = ref(false);
  const error = ref<ApiError | null>(null);
  /** What the last action did, for a polite confirmation. */
  const done = ref<string | null>(null);

  async function load(): Promise<void> {
    const [r, k, u] = await Promise.all([
      read(SignUpRequestsQuery, {}),
      read(UploaderKeysQuery, {}),
      isAdmin() ? read(UsersQuery, {}) : Promise.resolve(null),
    ]);
    const failed = r.error ?? k.error ?? u?.error;
    if (failed) error.value = toApiError(failed);
    requests.value = r.data?.signUpRequests ?? [];
    keys.value = k.data?.uploaderKeys ?? [];
    users.value = u?.data?.users ?? [];
  }

  async function act<D>(what: string, run: () => Promise<D | null>): Promise<boolean> {
    busy.value = true;
    done.value = null;
    try {
      const ok = (await run()) !== null;
      if (ok) {
        done.value = what;
        await load();
      }
      return ok;
    } finally {
      busy.value = false;
    }
  }

  return {
    requests,
    users,
    keys,
    busy,
    error,
    done,
    load,
    approve: (username: string) => act(`${username} approved`, () => mutate(ApproveUserMutation, { username }, error)),
    reject: (username: string) =>
      act(`sign-up of ${username} rejected`, () => mutate(RejectUserMutation, { username }, error)),
    setActive: (username: string, active: boolean) =>
      act(`${username} ${active ? 'activated' : 'deactivated'}`, () =>
        mutate(UserSetActiveMutation, { username, active }, error),
      ),
    setRole: (username: string, role: Role) =>
      act(`${username} is ${role.toLowerCase()} now`, () => mutate(UserSetRoleMutation, { username, role }, error)),
    resetPassword: (username: string, password: string) =>
      act(`password of ${username} set`, () => mutate(UserSetPasswordMutation, { username, password }, error)),
    activateKey: (fingerprint: string, repositories: string[]) =>
      act(`key ${fingerprint} active for ${repositories.join(', ')}`, () =>
        mutate(ActivateKeyMutation, { fingerprint, repositories }, error),
      ),
    deactivateKey: (fingerprint: string) =>
      act(`key ${fingerprint} deactivated`, () => mutate(DeactivateKeyMutation, { fingerprint }, error)),
  };
}
