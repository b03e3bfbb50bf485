import { GraphQLError } from 'graphql';
import type { RemoteErrorCode } from '../remote/wire.js';
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
  /** Sign-up is switched off (the daemon's signUp is CLOSED). */
  | 'SIGN_UP_CLOSED'
  /** Sign-in of a user who waits for approval or is deactivated. */
  | 'ACCOUNT_INACTIVE'
  /** An action that does not fit the user's state (approve an active user, deactivate a pending one). */
  | 'USER_STATE'
  // An uploader key that cannot be used (bad inputs C.1).
  /** Not an OpenPGP public key (armor, packets), or more than one. */
  | 'KEY_INVALID'
  | 'KEY_EXPIRED'
  | 'KEY_REVOKED'
  /** An algorithm or size apt does not accept: RSA below 2048 bits, DSA, ElGamal … */
  | 'KEY_WEAK'
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
  | 'PORT_FAILED'
  // Migrate, remove, restore (mini-buildd §3.7).
  /** The version is in the target of a migration already. */
  | 'ALREADY_MIGRATED'
  /** The suite migrates nowhere (its layout names no migratesTo). */
  | 'NO_MIGRATION_TARGET'
  /** A rollback distribution where a suite is needed (migrate from, restore into). */
  | 'ROLLBACK_DISTRIBUTION'
  /** A rollback number the suite does not keep. */
  | 'ROLLBACK_OUT_OF_RANGE'
  /** The rollback holds no version of the source. */
  | 'ROLLBACK_EMPTY'
  /** Every rollback is taken and the one to restore is the last: the shift would push it out first. */
  | 'ROLLBACK_FULL'
  /** Binary packages of a migration would have dependencies the target cannot satisfy (force to go ahead). */
  | 'DEPENDENCIES_UNSATISFIED'
  /** The dependency check could not run (a mirror, dose-distcheck): force skips it. */
  | 'DEPENDENCY_CHECK_FAILED'
  /** debdiff could not compare the two versions. */
  | 'DEBDIFF_FAILED'
  /** A mirror's target directory holds something that is not an earlier mirror. */
  | 'MIRROR_DIRECTORY_IN_USE'
  // Talking to a remote (reference/mini-buildd.md §5.3): unreachable, not an instance, key mismatch …
  | RemoteErrorCode;

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
