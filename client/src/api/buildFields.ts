import { gql } from '@urql/core';

// A build as every page shows it; apart so that the builds' and the uploads' documents share it
// without either chunk loading the other's documents.

export const BUILD_FIELDS = gql`
  fragment BuildFields on Build {
    id
    source
    version
    distribution
    architecture
    archAll
    chroot
    state
    result
    failStage
    reason
    cancelRequestedBy
    queuedAt
    startedAt
    finishedAt
    sbuildSeconds
    qaSeconds
    lintian
    autopkgtest
    attempt
    builder
    sentTo
    requestedFrom
    resultSentAt
    testBuild
    requestedBy
    logUrl
  }
`;
