import { Client, cacheExchange, fetchExchange, subscriptionExchange } from '@urql/core';
import { wsClient } from './ws';

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
