import { EventType, type Event } from '../events/event.entity.js';

/**
 * Events about failed deliveries go to no hook and no webhook: a failing target can never cause more
 * deliveries (and so more failures). They are in the event log, for staff.
 */
const NEVER_DELIVERED: ReadonlySet<EventType> = new Set([EventType.HOOK_FAILED, EventType.WEBHOOK_FAILED]);

export function isDelivered(type: EventType): boolean {
  return !NEVER_DELIVERED.has(type);
}

/** The event as hooks and webhooks get it: as the API shows it. */
export function eventJson(event: Event): {
  id: string;
  type: string;
  createdAt: string;
  summary: string;
  payload: Record<string, unknown>;
} {
  return {
    id: String(event.id),
    type: event.type,
    createdAt: new Date(event.createdAt).toISOString(),
    summary: event.summary,
    payload: event.payload,
  };
}
