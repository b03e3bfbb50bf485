import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuthChecker } from 'type-graphql';
import type { AuthService, Principal } from '../auth/auth.service.js';
import { Role, roleIncludes } from '../auth/role.js';
import type { BuildService } from '../build/build.service.js';
import type { UploadPipeline } from '../upload/pipeline.js';
import type { PortService } from '../port/port.js';
import type { SubscriptionService } from '../notify/subscription.service.js';
import type { WebhookService } from '../hooks/webhook.service.js';
import type { UploaderKeyService } from '../uploader/uploader-key.service.js';
import type { StagingService } from '../staging/staging.js';
import type { MirrorService } from '../repository/mirror.js';
import type { KeyringService } from '../keyring/keyring.service.js';
import type { RemoteService } from '../remote/remote.service.js';
import type { SnapshotService } from '../snapshot/snapshot.service.js';
import type { Engine } from '../engine/engine.js';
import type { ConfigService } from '../lifecycle/config.service.js';
import type { InstanceKeyStore } from '../pgp/instance-key.js';
import type { SetupService } from '../setup/setup.service.js';
import type { EventBus } from '../events/event-bus.js';
import type { EventService } from '../events/event.service.js';
import type { Status } from '../status/status.js';
import { DomainError } from './errors.js';

/** Long-lived services the resolvers delegate to. */
export interface Services {
  auth: AuthService;
  events: EventService;
  bus: EventBus;
  engine: Engine;
  config: ConfigService;
  keys: InstanceKeyStore;
  setup: SetupService;
  builds: BuildService;
  uploads: UploadPipeline;
  ports: PortService;
  subscriptions: SubscriptionService;
  webhooks: WebhookService;
  uploaderKeys: UploaderKeyService;
  staging: StagingService;
  mirror: MirrorService;
  keyring: KeyringService;
  snapshots: SnapshotService;
  remotes: RemoteService;
  /** The daemon's data directory (logs, chroots). */
  dataDir: string;
  status(): Status;
}

/** The session cookie, when the request came over HTTP (not over a WebSocket). */
export interface SessionCookie {
  set(secret: string, expires: Date): void;
  clear(): void;
}

export interface Context {
  /** Forked per request, per subscription. */
  em: EntityManager;
  principal: Principal | null;
  services: Services;
  cookie: SessionCookie | null;
}

const ROOT_TYPES = new Set(['Query', 'Mutation', 'Subscription']);

/**
 * The one authorisation check: `@Authorized()` needs a user (any role), `@Authorized(Role.X)` role X or above.
 * Nobody signed in is UNAUTHENTICATED, too weak a role FORBIDDEN; both name the operation and, in
 * `extensions.requiredRole`, the role it needs (the CLI exits 4 with that message).
 */
export const authChecker: AuthChecker<Context, Role> = ({ context, info }, roles) => {
  const needed = roles.reduce<Role>((max, r) => (roleIncludes(r, max) ? r : max), Role.UPLOADER);
  const { parentType, fieldName } = info;
  const operation = ROOT_TYPES.has(parentType.name) ? fieldName : `${parentType.name}.${fieldName}`;
  const user = context.principal?.user;
  if (!user)
    throw new DomainError(
      'UNAUTHENTICATED',
      `${operation} needs ${roles.length ? `the ${needed} role` : 'a signed-in user'} and you are not signed in: sign in to the console, or give the CLI a token (--token or DEBYARD_TOKEN)`,
      { requiredRole: needed },
    );
  if (!roleIncludes(user.role, needed))
    throw new DomainError(
      'FORBIDDEN',
      `${operation} needs the ${needed} role; ${user.username} is ${user.role}: ask an administrator for the role or use a token of a user who has it`,
      { requiredRole: needed },
    );
  return true;
};

/** The signed-in user, for resolvers behind `@Authorized()`. */
export function currentUser(ctx: Context) {
  if (!ctx.principal) throw new DomainError('UNAUTHENTICATED', 'you are not signed in');
  return ctx.principal.user;
}

export function isStaff(ctx: Context): boolean {
  return ctx.principal !== null && roleIncludes(ctx.principal.user.role, Role.STAFF);
}
