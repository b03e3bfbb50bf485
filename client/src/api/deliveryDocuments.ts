import { gql } from '@urql/core';
import type { DateTimeISO, Upload } from './types';

// Documents (and their types) of the keyring package, snapshots and external ports, apart so that
// they load with the repositories' and packages' chunks.

export type SnapshotKind = 'MANUAL' | 'WEEKLY' | 'MONTHLY' | 'YEARLY';

export interface Snapshot {
  id: string;
  repository: string;
  distribution: string;
  name: string;
  kind: SnapshotKind;
  components: string[];
  createdAt: DateTimeISO;
  expiresAt: DateTimeISO | null;
  createdBy: string | null;
  aptLine: string;
}

export interface KeyringPackage {
  name: string;
  distributions: string[];
  versionStamp: string | null;
  changedAt: DateTimeISO | null;
}

export type KeyringTargetState = 'UPLOADED' | 'UP_TO_DATE' | 'PENDING' | 'REFUSED';

export interface KeyringTarget {
  distribution: string;
  version: string;
  state: KeyringTargetState;
  upload: Pick<Upload, 'id' | 'state'> | null;
  reason: string | null;
}

export interface ExternalPortRequest {
  dscUrl: string;
  to: string[];
  allowUnauthenticated: boolean;
  options: string[] | null;
}

const SNAPSHOT_FIELDS = gql`
  fragment SnapshotFields on Snapshot {
    id
    repository
    distribution
    name
    kind
    components
    createdAt
    expiresAt
    createdBy
    aptLine
  }
`;

export const SnapshotsQuery = gql<{ snapshots: Snapshot[] }, { repository?: string | null }>`
  query Snapshots($repository: String) {
    snapshots(repository: $repository) {
      ...SnapshotFields
    }
  }
  ${SNAPSHOT_FIELDS}
`;

export const CreateSnapshotMutation = gql<
  { createSnapshot: Snapshot },
  { distribution: string; name: string; expiresAt?: DateTimeISO | null }
>`
  mutation CreateSnapshot($distribution: String!, $name: String!, $expiresAt: DateTimeISO) {
    createSnapshot(distribution: $distribution, name: $name, expiresAt: $expiresAt) {
      ...SnapshotFields
    }
  }
  ${SNAPSHOT_FIELDS}
`;

export const DeleteSnapshotMutation = gql<{ deleteSnapshot: Snapshot }, { distribution: string; name: string }>`
  mutation DeleteSnapshot($distribution: String!, $name: String!) {
    deleteSnapshot(distribution: $distribution, name: $name) {
      ...SnapshotFields
    }
  }
  ${SNAPSHOT_FIELDS}
`;

export const KeyringPackageQuery = gql<{ keyringPackage: KeyringPackage | null }, Record<string, never>>`
  query KeyringPackage {
    keyringPackage {
      name
      distributions
      versionStamp
      changedAt
    }
  }
`;

export const BuildKeyringPackagesMutation = gql<
  { buildKeyringPackages: KeyringTarget[] },
  { withoutMigration: boolean }
>`
  mutation BuildKeyringPackages($withoutMigration: Boolean!) {
    buildKeyringPackages(withoutMigration: $withoutMigration) {
      distribution
      version
      state
      upload {
        id
        state
      }
      reason
    }
  }
`;

export const PortExternalMutation = gql<{ portExternal: Upload[] }, ExternalPortRequest>`
  mutation PortExternal($dscUrl: String!, $to: [String!]!, $allowUnauthenticated: Boolean!, $options: [String!]) {
    portExternal(dscUrl: $dscUrl, to: $to, allowUnauthenticated: $allowUnauthenticated, options: $options) {
      id
      state
      source
      version
      distribution
    }
  }
`;
