// Types of the daemon's GraphQL schema as the console uses them. They follow the contract until
// the server emits `schema.graphql`; then codegen can replace this file.

/** ISO 8601 timestamp (`DateTimeISO` scalar). */
export type DateTimeISO = string;

export const ROLES = ['UPLOADER', 'STAFF', 'ADMIN'] as const;
export type Role = (typeof ROLES)[number];

/** Known event types; the server adds more over time, so any string must render. */
export type KnownEventType =
  | 'ENGINE_STARTED'
  | 'ENGINE_STOPPED'
  | 'FTP_UPLOAD'
  | 'DAEMON_STARTED'
  | 'DAEMON_STOPPED'
  | 'USER_CREATED'
  | 'USER_REMOVED'
  | 'TOKEN_CREATED'
  | 'TOKEN_REVOKED';
export type EventType = KnownEventType | (string & {});

export interface Status {
  version: string;
  identity: string;
  httpUrl: string;
  ftpUrl: string;
  engineRunning: boolean;
  load: number;
  uptimeSeconds: number;
  startedAt: DateTimeISO;
}

export interface DaemonEvent {
  id: string;
  type: EventType;
  createdAt: DateTimeISO;
  summary: string;
  payload: Record<string, unknown>;
}

export interface User {
  id: string;
  username: string;
  role: Role;
  createdAt: DateTimeISO;
  lastSignInAt: DateTimeISO | null;
}
