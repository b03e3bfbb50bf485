import { gql } from '@urql/core';
import { BUILD_FIELDS } from './buildFields';
import type {
  PackageSummary,
  PackageTracker,
  PortPlan,
  PortRequest,
  Upload,
  UploadFilter,
  UploadPage,
  UploadWithBuilds,
} from './types';

// The uploads' and package tracker's documents, apart from documents.ts so that they load with those
// pages' chunks.

const UPLOAD_FIELDS = gql`
  fragment UploadFields on Upload {
    id
    changesName
    via
    remoteAddress
    receivedAt
    state
    source
    version
    distribution
    targetDistribution
    repository
    changedBy
    signedBy
    uploader
    rejectCode
    reason
    options
    finishedAt
    attempt
    changesUrl
    port {
      from
      fromVersion
      by
      autoPortOf
    }
  }
`;

/** An upload's build: whether it may fail without failing the upload, too. */
const UPLOAD_BUILD_FIELDS = gql`
  fragment UploadBuildFields on Build {
    ...BuildFields
    optional
  }
  ${BUILD_FIELDS}
`;

export const UploadsQuery = gql<{ uploads: UploadPage }, UploadFilter & { first: number; before?: string | null }>`
  query Uploads($state: UploadState, $source: String, $repository: String, $first: Int!, $before: ID) {
    uploads(state: $state, source: $source, repository: $repository, first: $first, before: $before) {
      nodes {
        ...UploadFields
      }
      totalCount
      hasMore
    }
  }
  ${UPLOAD_FIELDS}
`;

export const UploadQuery = gql<{ upload: UploadWithBuilds | null }, { id: string }>`
  query Upload($id: ID!) {
    upload(id: $id) {
      ...UploadFields
      builds {
        ...UploadBuildFields
      }
    }
  }
  ${UPLOAD_FIELDS}
  ${UPLOAD_BUILD_FIELDS}
`;

export const RetryUploadMutation = gql<{ retryUpload: Upload }, { id: string }>`
  mutation RetryUpload($id: ID!) {
    retryUpload(id: $id) {
      ...UploadFields
    }
  }
  ${UPLOAD_FIELDS}
`;

export const PackagesQuery = gql<{ packages: PackageSummary[] }, { search?: string | null; first: number }>`
  query Packages($search: String, $first: Int!) {
    packages(search: $search, first: $first) {
      source
      latestVersion
      lastUploadAt
      lastState
      uploads
    }
  }
`;

export const PackageQuery = gql<{ package: PackageTracker }, { source: string }>`
  query Package($source: String!) {
    package(source: $source) {
      source
      versions {
        repository
        distribution
        version
        component
        rollback
      }
      snapshots {
        repository
        distribution
        snapshot
        version
        component
      }
      uploads(first: 50) {
        ...UploadFields
      }
      builds(first: 200) {
        ...UploadBuildFields
      }
      events {
        id
        type
        createdAt
        summary
        payload
      }
      buildTimes {
        build
        version
        architecture
        seconds
        finishedAt
      }
    }
  }
  ${UPLOAD_FIELDS}
  ${UPLOAD_BUILD_FIELDS}
`;

export const PortTargetsQuery = gql<{ portTargets: string[] }, Record<string, never>>`
  query PortTargets {
    portTargets
  }
`;

export const PortPlanQuery = gql<{ portPlan: PortPlan }, PortRequest>`
  query PortPlan($source: String!, $from: String!, $to: [String!]!, $version: String, $options: [String!]) {
    portPlan(source: $source, from: $from, to: $to, version: $version, options: $options) {
      source
      from
      fromVersion
      options
      rebuildStamp
      targets {
        distribution
        repository
        version
        rebuild
      }
    }
  }
`;

export const PortMutation = gql<{ port: Upload[] }, PortRequest & { rebuildStamp: string }>`
  mutation Port(
    $source: String!
    $from: String!
    $to: [String!]!
    $version: String
    $options: [String!]
    $rebuildStamp: String
  ) {
    port(source: $source, from: $from, to: $to, version: $version, options: $options, rebuildStamp: $rebuildStamp) {
      ...UploadFields
    }
  }
  ${UPLOAD_FIELDS}
`;
