import { gql } from '@urql/core';
import type * as S from '../gql/schema';

import type { Role, SignUpPolicy } from '../gql/schema';

export type { SignUpPolicy, UserState } from '../gql/schema';

/** A user as the administration page shows it. */
export type Account = Pick<
  S.User,
  'id' | 'username' | 'role' | 'state' | 'email' | 'createdAt' | 'lastSignInAt' | 'hasPassword'
>;

/** An uploader key (the UPLOADER configuration object) with its user and grants. */
export type UploaderKey = Pick<
  S.Uploader,
  | 'fingerprint'
  | 'username'
  | 'algorithm'
  | 'userIds'
  | 'expiresAt'
  | 'status'
  | 'checkState'
  | 'problem'
  | 'repositories'
  | 'usable'
>;

/** An API token as the profile lists it (never its secret: the daemon shows that once, at creation). */
export type Token = Pick<
  S.ApiToken,
  'id' | 'name' | 'username' | 'createdAt' | 'expiresAt' | 'lastUsedAt' | 'revokedAt'
>;

const ACCOUNT_FIELDS = 'id username role state email createdAt lastSignInAt hasPassword';
const TOKEN_FIELDS = 'id name username createdAt expiresAt lastUsedAt revokedAt';
const KEY_FIELDS = 'fingerprint username algorithm userIds expiresAt status checkState problem repositories usable';

export const SignUpPolicyQuery = gql<{ signUpPolicy: SignUpPolicy }, Record<string, never>>`
  query SignUpPolicy {
    signUpPolicy
  }
`;

export const SignUpMutation = gql<{ signUp: Account }, { username: string; password: string; email: string | null }>`
  mutation SignUp($username: String!, $password: String!, $email: String) {
    signUp(username: $username, password: $password, email: $email) { ${ACCOUNT_FIELDS} }
  }
`;

export const MyKeysQuery = gql<{ myKeys: UploaderKey[] }, Record<string, never>>`
  query MyKeys {
    myKeys { ${KEY_FIELDS} }
  }
`;

export const AddKeyMutation = gql<{ addKey: UploaderKey }, { armored: string }>`
  mutation AddKey($armored: String!) {
    addKey(armored: $armored) { ${KEY_FIELDS} }
  }
`;

export const RemoveKeyMutation = gql<{ removeKey: boolean }, { fingerprint: string }>`
  mutation RemoveKey($fingerprint: String!) {
    removeKey(fingerprint: $fingerprint)
  }
`;

export const UploaderKeysQuery = gql<{ uploaderKeys: UploaderKey[] }, Record<string, never>>`
  query UploaderKeys {
    uploaderKeys { ${KEY_FIELDS} }
  }
`;

export const ActivateKeyMutation = gql<{ activateKey: UploaderKey }, { fingerprint: string; repositories: string[] }>`
  mutation ActivateKey($fingerprint: String!, $repositories: [String!]!) {
    activateKey(fingerprint: $fingerprint, repositories: $repositories) { ${KEY_FIELDS} }
  }
`;

export const DeactivateKeyMutation = gql<{ deactivateKey: UploaderKey }, { fingerprint: string }>`
  mutation DeactivateKey($fingerprint: String!) {
    deactivateKey(fingerprint: $fingerprint) { ${KEY_FIELDS} }
  }
`;

export const UsersQuery = gql<{ users: Account[] }, Record<string, never>>`
  query Users {
    users { ${ACCOUNT_FIELDS} }
  }
`;

export const SignUpRequestsQuery = gql<{ signUpRequests: Account[] }, Record<string, never>>`
  query SignUpRequests {
    signUpRequests { ${ACCOUNT_FIELDS} }
  }
`;

export const ApproveUserMutation = gql<{ approveUser: Account }, { username: string }>`
  mutation ApproveUser($username: String!) {
    approveUser(username: $username) { ${ACCOUNT_FIELDS} }
  }
`;

export const RejectUserMutation = gql<{ rejectUser: boolean }, { username: string }>`
  mutation RejectUser($username: String!) {
    rejectUser(username: $username)
  }
`;

export const UserSetActiveMutation = gql<{ userSetActive: Account }, { username: string; active: boolean }>`
  mutation UserSetActive($username: String!, $active: Boolean!) {
    userSetActive(username: $username, active: $active) { ${ACCOUNT_FIELDS} }
  }
`;

export const UserSetRoleMutation = gql<{ userSetRole: Account }, { username: string; role: Role }>`
  mutation UserSetRole($username: String!, $role: Role!) {
    userSetRole(username: $username, role: $role) { ${ACCOUNT_FIELDS} }
  }
`;

export const UserSetPasswordMutation = gql<{ userSetPassword: Account }, { username: string; password: string }>`
  mutation UserSetPassword($username: String!, $password: String!) {
    userSetPassword(username: $username, password: $password) { ${ACCOUNT_FIELDS} }
  }
`;

export const TokensQuery = gql<{ tokens: Token[] }, Record<string, never>>`
  query Tokens {
    tokens { ${TOKEN_FIELDS} }
  }
`;

export const TokenCreateMutation = gql<
  { tokenCreate: { secret: string; token: Token } },
  { name: string; expiresInDays: number | null }
>`
  mutation TokenCreate($name: String!, $expiresInDays: Int) {
    tokenCreate(name: $name, expiresInDays: $expiresInDays) { secret token { ${TOKEN_FIELDS} } }
  }
`;

export const TokenRevokeMutation = gql<{ tokenRevoke: Token }, { id: string }>`
  mutation TokenRevoke($id: ID!) {
    tokenRevoke(id: $id) { ${TOKEN_FIELDS} }
  }
`;
