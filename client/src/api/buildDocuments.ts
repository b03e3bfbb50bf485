import { gql } from '@urql/core';
import { BUILD_FIELDS } from './buildFields';
import type { Build, BuildFilter, BuildPage, Builders, LogChunk, Remote, Worker } from './types';

// The builders' and builds' pages' documents, apart from documents.ts so that they load with those
// pages' chunks.

export const BuildsQuery = gql<{ builds: BuildPage }, BuildFilter & { first: number; before?: string | null }>`
  query Builds(
    $state: BuildState
    $result: BuildResult
    $source: String
    $distribution: String
    $architecture: String
    $first: Int!
    $before: ID
  ) {
    builds(
      state: $state
      result: $result
      source: $source
      distribution: $distribution
      architecture: $architecture
      first: $first
      before: $before
    ) {
      nodes {
        ...BuildFields
      }
      totalCount
      hasMore
    }
  }
  ${BUILD_FIELDS}
`;

export const BuildQuery = gql<{ build: Build | null }, { id: string }>`
  query Build($id: ID!) {
    build(id: $id) {
      ...BuildFields
    }
  }
  ${BUILD_FIELDS}
`;

/** The builders and the queue (newest first, as every builds page). */
export const BuildersQuery = gql<{ builders: Builders; queue: BuildPage }, { hours: number; queueSize: number }>`
  query Builders($hours: Int!, $queueSize: Int!) {
    builders {
      slots
      busy
      load
      queued
      running {
        ...BuildFields
      }
      history(hours: $hours) {
        at
        load
        queued
      }
    }
    queue: builds(state: QUEUED, first: $queueSize) {
      nodes {
        ...BuildFields
      }
      totalCount
      hasMore
    }
  }
  ${BUILD_FIELDS}
`;

export const CancelBuildMutation = gql<{ cancelBuild: Build }, { id: string }>`
  mutation CancelBuild($id: ID!) {
    cancelBuild(id: $id) {
      ...BuildFields
    }
  }
  ${BUILD_FIELDS}
`;

export const RetryBuildMutation = gql<{ retryBuild: Build }, { id: string }>`
  mutation RetryBuild($id: ID!) {
    retryBuild(id: $id) {
      ...BuildFields
    }
  }
  ${BUILD_FIELDS}
`;

export const TestBuildMutation = gql<{ testBuild: Build }, { dsc: string; distribution: string; architecture: string }>`
  mutation TestBuild($dsc: String!, $distribution: String!, $architecture: String!) {
    testBuild(dsc: $dsc, distribution: $distribution, architecture: $architecture) {
      ...BuildFields
    }
  }
  ${BUILD_FIELDS}
`;

export const BuildLogSubscription = gql<{ buildLog: LogChunk }, { id: string; offset: number }>`
  subscription BuildLog($id: ID!, $offset: Float!) {
    buildLog(id: $id, offset: $offset) {
      offset
      text
      done
    }
  }
`;

export const ChrootLogSubscription = gql<{ chrootLog: LogChunk }, { key: string; offset: number }>`
  subscription ChrootLog($key: String!, $offset: Float!) {
    chrootLog(key: $key, offset: $offset) {
      offset
      text
      done
    }
  }
`;

export const RemotesQuery = gql<{ remotes: Remote[] }, Record<string, never>>`
  query Remotes {
    remotes {
      url
      status
      checkState
      checkedAt
      problem
      identity
      version
      load
      chroots
      builds
      packages
      seenAt
    }
  }
`;

export const WorkersQuery = gql<{ builders: { workers: Worker[] } }, Record<string, never>>`
  query Workers {
    builders {
      workers {
        name
        host
        pid
        slots
        busy
        alive
        startedAt
        lastSeenAt
      }
    }
  }
`;
