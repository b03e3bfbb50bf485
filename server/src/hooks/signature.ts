import { createHmac } from 'node:crypto';

/** The headers of a webhook delivery (lower case, as HTTP/2 and fetch name them). */
export const WEBHOOK_HEADERS = {
  /** `sha256=<hex>`: HMAC-SHA256 with the webhook's secret over the exact body bytes. */
  signature: 'x-debyard-signature',
  /** The event's id: the same in every attempt, so a receiver can drop repeats. */
  eventId: 'x-debyard-event-id',
  eventType: 'x-debyard-event-type',
  /** Unix seconds of this attempt; the body's `timestamp` holds the same and is signed. */
  timestamp: 'x-debyard-timestamp',
} as const;

/** What a webhook receives: the event as the API shows it, plus the signed time of the attempt. */
export interface WebhookEventBody {
  id: string;
  type: string;
  createdAt: string;
  summary: string;
  payload: Record<string, unknown>;
  /** Unix seconds when this attempt was sent: a receiver refuses old ones, which stops replays. */
  timestamp: number;
}

/** The body bytes to send; the signature covers exactly these. */
export function webhookBody(body: WebhookEventBody): string {
  return JSON.stringify(body);
}

/** `sha256=<hex>` of HMAC-SHA256(secret, body). */
export function signBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}
