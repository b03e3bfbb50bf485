import { gql } from '@urql/core';
import type * as S from '../gql/schema';
import type { DateTimeISO, Upload } from './types';

// Documents (and their types) of the keyring package, snapshots and external ports, apart so that
// they load with the repositories' and packages' chunks.

export type { SnapshotKind, KeyringTargetState } from '../gql/schema';
export type Snapshot = S.Snapshot;
export type KeyringPackage = S.KeyringPackage;
export type KeyringTarget = Omit<S.KeyringTarget, 'upload'> & { upload: Pick<Upload, 'id' | 'state'> | null };
export type ExternalPortRequest = Required<S.MutationPortExternalArgs>;

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
