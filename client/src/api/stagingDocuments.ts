import { gql } from '@urql/core';
import type { DebdiffResult, RepositoryBrowser, RepositoryChange, StagingRequest } from './types';

// Repository maintenance: the browser, migrate / remove / restore with their plans, debdiff. Apart from
// documents.ts so they load with the pages that use them.

const CHANGE_FIELDS = `
  fragment RepositoryChangeFields on RepositoryChange {
    action
    source
    version
    repository
    distribution
    steps {
      from
      to
    }
    changes {
      distribution
      before
      after
    }
    summary
    dependencies {
      checked
      forced
      against
      broken {
        package
        version
        architecture
        distribution
        reasons
        missing
      }
    }
  }
`;

export const RepositoryBrowserQuery = gql<{ repositoryBrowser: RepositoryBrowser }, { repository: string }>`
  query RepositoryBrowser($repository: String!) {
    repositoryBrowser(repository: $repository) {
      repository
      codenames
      suites {
        name
        migratesTo
        rollbacks
        uploadable
      }
      entries {
        source
        codename
        suite
        distribution
        version
        rollbacks {
          rollback
          distribution
          version
        }
        snapshots {
          name
          version
        }
      }
    }
  }
`;

export const StagingPlanQuery = gql<{ stagingPlan: RepositoryChange }, StagingRequest & { checkDependencies: boolean }>`
  query StagingPlan(
    $action: StagingAction!
    $source: String!
    $distribution: String!
    $version: String
    $full: Boolean
    $keepRollback: Boolean
    $rollback: Int
    $checkDependencies: Boolean
  ) {
    stagingPlan(
      action: $action
      source: $source
      distribution: $distribution
      version: $version
      full: $full
      keepRollback: $keepRollback
      rollback: $rollback
      checkDependencies: $checkDependencies
    ) {
      ...RepositoryChangeFields
    }
  }
  ${CHANGE_FIELDS}
`;

export const MigrateMutation = gql<
  { migrate: RepositoryChange },
  { source: string; distribution: string; version?: string | null; full?: boolean; force?: boolean }
>`
  mutation Migrate($source: String!, $distribution: String!, $version: String, $full: Boolean, $force: Boolean) {
    migrate(source: $source, distribution: $distribution, version: $version, full: $full, force: $force) {
      ...RepositoryChangeFields
    }
  }
  ${CHANGE_FIELDS}
`;

export const RemoveMutation = gql<
  { remove: RepositoryChange },
  { source: string; distribution: string; version?: string | null; keepRollback?: boolean }
>`
  mutation Remove($source: String!, $distribution: String!, $version: String, $keepRollback: Boolean) {
    remove(source: $source, distribution: $distribution, version: $version, keepRollback: $keepRollback) {
      ...RepositoryChangeFields
    }
  }
  ${CHANGE_FIELDS}
`;

export const RestoreMutation = gql<
  { restore: RepositoryChange },
  { source: string; distribution: string; rollback: number }
>`
  mutation Restore($source: String!, $distribution: String!, $rollback: Int!) {
    restore(source: $source, distribution: $distribution, rollback: $rollback) {
      ...RepositoryChangeFields
    }
  }
  ${CHANGE_FIELDS}
`;

export const DebdiffQuery = gql<
  { debdiff: DebdiffResult },
  { source: string; from: string; to: string; repository?: string | null }
>`
  query Debdiff($source: String!, $from: String!, $to: String!, $repository: String) {
    debdiff(source: $source, from: $from, to: $to, repository: $repository) {
      repository
      source
      from
      to
      text
      identical
      truncated
    }
  }
`;
