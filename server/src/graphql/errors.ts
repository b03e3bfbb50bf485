import { GraphQLError } from 'graphql';

/** Stable `extensions.code` values clients may switch on. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'INVALID_CREDENTIALS'
  | 'INVALID_TOKEN'
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'LAST_ADMIN'
  | 'LIFECYCLE'
  | 'PREPARE_FAILED'
  | 'CHECK_FAILED'
  | 'NOT_SUPPORTED'
  | 'UNKNOWN_DISTRIBUTION'
  | 'UNKNOWN_ARCHITECTURE'
  | 'CHROOT_MISSING'
  | 'BUILD_STATE'
  | 'DSC_NOT_FOUND'
  | 'DSC_INVALID'
  | 'SOURCE_FILE_MISSING'
  | 'CHECKSUM_MISMATCH'
  // The upload checks' codes, for ports that are refused before anything is uploaded.
  | 'DISTRIBUTION_UNKNOWN'
  | 'DISTRIBUTION_INACTIVE'
  | 'SUITE_NOT_UPLOADABLE'
  | 'VERSION_RULE'
  | 'VERSION_EXISTS'
  | 'VERSION_LOWER'
  | 'OPTION_UNKNOWN'
  | 'OPTION_DUPLICATE'
  | 'OPTION_INVALID'
  /** A port's source version is not in its from-distribution. */
  | 'SOURCE_NOT_FOUND'
  /** Making a port's source package failed (dpkg-source, debchange, dpkg-genchanges, the hand-over). */
  | 'PORT_FAILED'
  /** A mirror's target directory holds something that is not an earlier mirror. */
  | 'MIRROR_DIRECTORY_IN_USE';

/** An expected failure: a message a person can act on, and a code a program can switch on. */
export class DomainError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    extra: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { ...extra, code } });
  }
}
