import { GraphQLError } from 'graphql';
import type { RejectCode } from '../upload/checks.js';

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
  | RejectCode
  /** A port's source version is not in its from-distribution. */
  | 'SOURCE_NOT_FOUND'
  /** Making a port's source package failed (dpkg-source, debchange, dpkg-genchanges, the hand-over). */
  | 'PORT_FAILED';

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
