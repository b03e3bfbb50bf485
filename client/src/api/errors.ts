import type { CombinedError } from '@urql/core';

/** An error as the console shows it: a message a person can act on, and the server's code. */
export interface ApiError {
  message: string;
  /** `extensions.code` of the first GraphQL error (UNAUTHENTICATED, FORBIDDEN, …), or NETWORK. */
  code: string;
  /** `extensions.field`: the input field a BAD_USER_INPUT error is about, to show it next to that field. */
  field?: string;
}

export function toApiError(error: CombinedError | Error | unknown): ApiError {
  if (isCombinedError(error)) {
    const first = error.graphQLErrors[0];
    if (first) {
      const code = first.extensions?.code;
      const field = first.extensions?.field;
      return {
        message: error.graphQLErrors.map((e) => e.message).join('; '),
        code: typeof code === 'string' ? code : 'GRAPHQL',
        ...(typeof field === 'string' ? { field } : {}),
      };
    }
    if (error.networkError) {
      return { message: `Cannot reach the daemon: ${describeNetworkError(error.networkError)}`, code: 'NETWORK' };
    }
    return { message: error.message, code: 'UNKNOWN' };
  }
  if (error instanceof Error) return { message: error.message, code: 'UNKNOWN' };
  return { message: String(error), code: 'UNKNOWN' };
}

function isCombinedError(error: unknown): error is CombinedError {
  return typeof error === 'object' && error !== null && 'graphQLErrors' in error && 'networkError' in error;
}

function describeNetworkError(error: Error | { code?: number; reason?: string }): string {
  // graphql-ws reports a dropped socket as a CloseEvent, not an Error.
  if ('code' in error && typeof error.code === 'number') {
    return error.reason ? `connection closed (${error.code}: ${error.reason})` : `connection closed (${error.code})`;
  }
  return 'message' in error && error.message ? error.message : 'network error';
}
