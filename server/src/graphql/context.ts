import type { EntityManager } from '@mikro-orm/postgresql';
import type { AuthChecker } from 'type-graphql';
import type { AuthService, Principal } from '../auth/auth.service.js';
import { Role, roleIncludes } from '../auth/role.js';
import type { BuildService } from '../build/build.service.js';
import type { UploadPipeline } from '../upload/pipeline.js';
import type { PortService } from '../port/port.js';
import type { SubscriptionService } from '../notify/subscription.service.js';
import type { WebhookService } from '../hooks/webhook.service.js';
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

/** The one authorisation check: `@Authorized()` needs a user, `@Authorized(Role.X)` needs role X or above. */
export const authChecker: AuthChecker<Context, Role> = ({ context }, roles) => {
  const user = context.principal?.user;
  if (!user)
    throw new DomainError(
      'UNAUTHENTICATED',
      'you are not signed in: sign in to the console, or give the CLI a token (--token or DEBYARD_TOKEN)',
    );
  const needed = roles.reduce<Role | undefined>(
    (max, r) => (max === undefined || roleIncludes(r, max) ? r : max),
    undefined,
  );
  if (needed && !roleIncludes(user.role, needed))
    throw new DomainError('FORBIDDEN', `this needs the ${needed} role; ${user.username} is ${user.role}`);
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
