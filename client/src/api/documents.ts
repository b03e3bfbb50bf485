import { gql } from '@urql/core';
import type { DaemonEvent, Status, User } from './types';

const STATUS_FIELDS = gql`
  fragment StatusFields on Status {
    version
    identity
    httpUrl
    ftpUrl
    engineRunning
    load
    uptimeSeconds
    startedAt
  }
`;

const EVENT_FIELDS = gql`
  fragment EventFields on Event {
    id
    type
    createdAt
    summary
    payload
  }
`;

const USER_FIELDS = gql`
  fragment UserFields on User {
    id
    username
    role
    createdAt
    lastSignInAt
  }
`;

export const IdentityQuery = gql<{ status: Pick<Status, 'identity' | 'version'> }>`
  query Identity {
    status {
      identity
      version
    }
  }
`;

export const StatusQuery = gql<{ status: Status }>`
  query Status {
    status {
      ...StatusFields
    }
  }
  ${STATUS_FIELDS}
`;

export const EngineStartMutation = gql<{ engineStart: Status }>`
  mutation EngineStart {
    engineStart {
      ...StatusFields
    }
  }
  ${STATUS_FIELDS}
`;

export const EngineStopMutation = gql<{ engineStop: Status }>`
  mutation EngineStop {
    engineStop {
      ...StatusFields
    }
  }
  ${STATUS_FIELDS}
`;

export const EventsQuery = gql<{ events: DaemonEvent[] }, { before?: string | null; limit: number }>`
  query Events($before: ID, $limit: Int!) {
    events(before: $before, limit: $limit) {
      ...EventFields
    }
  }
  ${EVENT_FIELDS}
`;

export const EventsSubscription = gql<{ events: DaemonEvent }, { since?: string | null }>`
  subscription Events($since: ID) {
    events(since: $since) {
      ...EventFields
    }
  }
  ${EVENT_FIELDS}
`;

export const MeQuery = gql<{ me: User | null }>`
  query Me {
    me {
      ...UserFields
    }
  }
  ${USER_FIELDS}
`;

export const SignInMutation = gql<{ signIn: User }, { username: string; password: string }>`
  mutation SignIn($username: String!, $password: String!) {
    signIn(username: $username, password: $password) {
      ...UserFields
    }
  }
  ${USER_FIELDS}
`;

export const SignOutMutation = gql<{ signOut: boolean }>`
  mutation SignOut {
    signOut
  }
`;
