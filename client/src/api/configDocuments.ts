import { gql } from '@urql/core';
import type {
  ArchiveKey,
  ConfigKind,
  ConfigKindInfo,
  ConfigObject,
  ConfigSetResult,
  DaemonEvent,
  LifecycleAction,
  SetupInput,
  SetupReport,
} from './types';

// The configuration pages' documents live apart from documents.ts so that they load with those
// pages' chunks, not with the main bundle.

const CONFIG_OBJECT_FIELDS = gql`
  fragment ConfigObjectFields on ConfigObject {
    kind
    key
    description
    lifecycle
    status
    checkState
    checkedAt
    problem
    fields {
      name
      type
      description
      options
      refKind
      readOnly
      value
    }
  }
`;

const CHANGE_FIELDS = gql`
  fragment FieldChangeFields on FieldChangeInfo {
    field
    from
    to
  }
`;

export const ConfigKindsQuery = gql<{ configKinds: ConfigKindInfo[] }>`
  query ConfigKinds {
    configKinds {
      kind
      lifecycle
      fields {
        name
        type
        description
        options
        refKind
        readOnly
      }
    }
  }
`;

export const ConfigObjectsQuery = gql<{ configObjects: ConfigObject[] }, { kind: ConfigKind }>`
  query ConfigObjects($kind: ConfigKind!) {
    configObjects(kind: $kind) {
      ...ConfigObjectFields
    }
  }
  ${CONFIG_OBJECT_FIELDS}
`;

/** Only the keys: what a REFERENCE field may point to. */
export const ConfigKeysQuery = gql<{ configObjects: Pick<ConfigObject, 'key'>[] }, { kind: ConfigKind }>`
  query ConfigKeys($kind: ConfigKind!) {
    configObjects(kind: $kind) {
      key
    }
  }
`;

export const ConfigObjectQuery = gql<{ configObject: ConfigObject }, { kind: ConfigKind; key: string }>`
  query ConfigObject($kind: ConfigKind!, $key: String!) {
    configObject(kind: $kind, key: $key) {
      ...ConfigObjectFields
    }
  }
  ${CONFIG_OBJECT_FIELDS}
`;

export const ConfigSetMutation = gql<
  { configSet: ConfigSetResult },
  { kind: ConfigKind; key: string; values: Record<string, unknown>; create: boolean }
>`
  mutation ConfigSet($kind: ConfigKind!, $key: String!, $values: JSONObject!, $create: Boolean!) {
    configSet(kind: $kind, key: $key, values: $values, create: $create) {
      created
      changes {
        ...FieldChangeFields
      }
      object {
        ...ConfigObjectFields
      }
    }
  }
  ${CONFIG_OBJECT_FIELDS}
  ${CHANGE_FIELDS}
`;

export const ConfigActionMutation = gql<
  { configAction: ConfigObject },
  { kind: ConfigKind; key: string; action: LifecycleAction }
>`
  mutation ConfigAction($kind: ConfigKind!, $key: String!, $action: LifecycleAction!) {
    configAction(kind: $kind, key: $key, action: $action) {
      ...ConfigObjectFields
    }
  }
  ${CONFIG_OBJECT_FIELDS}
`;

export const SetupMutation = gql<{ setup: SetupReport }, { input: SetupInput; apply: boolean }>`
  mutation Setup($input: SetupInput!, $apply: Boolean!) {
    setup(input: $input, apply: $apply) {
      applied
      entries {
        kind
        key
        state
        note
        result
        error
        changes {
          ...FieldChangeFields
        }
      }
    }
  }
  ${CHANGE_FIELDS}
`;

/** The newest event's id: where a stream that must not miss what follows starts. */
export const LatestEventQuery = gql<{ events: Pick<DaemonEvent, 'id'>[] }>`
  query LatestEvent {
    events(limit: 1) {
      id
    }
  }
`;

export interface RepositorySources {
  oneLine: string;
  deb822: string;
}

export const RepositorySourcesQuery = gql<RepositorySources, { repository: string }>`
  query RepositorySources($repository: String!) {
    oneLine: sourcesList(repositories: [$repository], format: ONE_LINE)
    deb822: sourcesList(repositories: [$repository], format: DEB822)
  }
`;

/** The repositories and the key that signs them: public, as apt users need them. */
export const RepositoriesQuery = gql<{ configObjects: ConfigObject[]; archiveKey: ArchiveKey | null }>`
  query Repositories {
    configObjects(kind: REPOSITORY) {
      ...ConfigObjectFields
    }
    archiveKey {
      fingerprint
      armored
      userIds
      binaryUrl
      armoredUrl
      keyringPath
    }
  }
  ${CONFIG_OBJECT_FIELDS}
`;

// Apart from the repositories: it fails (NOT_FOUND) when FTP incoming is not configured.
export const DputConfigQuery = gql<{ dputConfig: string }>`
  query DputConfig {
    dputConfig
  }
`;
