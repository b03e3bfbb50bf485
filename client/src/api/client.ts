import { Client, cacheExchange, fetchExchange, mapExchange, subscriptionExchange } from '@urql/core';
import { wsClient } from './ws';

const unauthenticatedListeners = new Set<() => void>();

/** Calls `listener` whenever the daemon answers UNAUTHENTICATED (e.g. the session expired). */
export function onUnauthenticated(listener: () => void): () => void {
  unauthenticatedListeners.add(listener);
  return () => unauthenticatedListeners.delete(listener);
}

// The daemon closes a live connection with 4401 when its session is revoked or expires, or its user is
// removed: the visitor is signed out from then on.
wsClient.on('closed', (event) => {
  if ((event as { code?: unknown } | null)?.code === 4401) for (const listener of unauthenticatedListeners) listener();
});

/**
 * The console's one GraphQL client. Queries and mutations go over HTTP POST (Apollo's CSRF
 * protection rejects urql's default GET for queries); subscriptions over graphql-ws.
 */
export const client = new Client({
  url: '/graphql',
  preferGetMethod: false,
  fetchOptions: { credentials: 'same-origin' },
  exchanges: [
    cacheExchange,
    mapExchange({
      onError(error) {
        if (error.graphQLErrors.some((e) => e.extensions?.code === 'UNAUTHENTICATED')) {
          for (const listener of unauthenticatedListeners) listener();
        }
      },
    }),
    fetchExchange,
    subscriptionExchange({
      forwardSubscription(request) {
        const input = { ...request, query: request.query ?? '' };
        return {
          subscribe(sink) {
            return { unsubscribe: wsClient.subscribe(input, sink) };
          },
        };
      },
    }),
  ],
});
