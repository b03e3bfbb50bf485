import { gql } from '@urql/core';
import type * as S from '../gql/schema';
import type { Given } from './types';

/** What to copy and where (`mirrorRepository`'s arguments); empty lists mean all. */
export type MirrorRequest = Given<S.MutationMirrorRepositoryArgs>;

export type MirrorResult = S.MirrorResult;

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
