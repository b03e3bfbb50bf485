import { gql } from '@urql/core';

/** What to copy and where (`mirrorRepository`'s arguments); empty lists mean all. */
export interface MirrorRequest {
  repository: string;
  directory: string;
  codenames: string[];
  suites: string[];
  architectures: string[];
  rollbacks: number;
}

export interface MirrorResult {
  repository: string;
  directory: string;
  distributions: string[];
  architectures: string[];
  resigned: string[];
  poolFiles: number;
  bytes: number;
  seconds: number;
}

export const MirrorRepositoryMutation = gql<{ mirrorRepository: MirrorResult }, MirrorRequest>`
  mutation MirrorRepository(
    $repository: String!
    $directory: String!
    $codenames: [String!]
    $suites: [String!]
    $architectures: [String!]
    $rollbacks: Int
  ) {
    mirrorRepository(
      repository: $repository
      directory: $directory
      codenames: $codenames
      suites: $suites
      architectures: $architectures
      rollbacks: $rollbacks
    ) {
      repository
      directory
      distributions
      architectures
      resigned
      poolFiles
      bytes
      seconds
    }
  }
`;
