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
  | 'CHECKSUM_MISMATCH';

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
