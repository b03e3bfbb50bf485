import { ref } from 'vue';
import { createClient, type Client as WsClient } from 'graphql-ws';

export type LiveState = 'idle' | 'connecting' | 'connected' | 'disconnected';

/** ws(s)://<this host>/graphql: same origin, so the browser sends the session cookie on upgrade. */
export function graphqlWsUrl(): string {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${window.location.host}/graphql`;
}

/** State of the one WebSocket the console keeps for live data, for a "live / reconnecting" badge. */
export const liveState = ref<LiveState>('idle');

// The socket does not retry on its own (`retryAttempts: 0`): graphql-ws would resend each
// subscription with the variables it was started with, so a stream would replay from a stale
// cursor. Instead a dropped socket ends every subscription with a network error and
// `useResumableSubscription` starts it again with the cursor of the last item it saw.
export const wsClient: WsClient = createClient({
  url: graphqlWsUrl,
  lazy: true,
  retryAttempts: 0,
  keepAlive: 20_000,
  on: {
    connecting: () => {
      liveState.value = 'connecting';
    },
    connected: () => {
      liveState.value = 'connected';
    },
    closed: (event) => {
      // 1000 is the client closing an unused socket (lazy mode); anything else is a drop.
      const code = (event as { code?: unknown } | null)?.code;
      liveState.value = code === 1000 ? 'idle' : 'disconnected';
    },
  },
});

/**
 * Closes the socket so that live streams reconnect with the current session cookie (after
 * signing in or out); they resume from their cursors, so nothing is lost or repeated.
 */
export function restartLiveConnection(): void {
  wsClient.terminate();
}
