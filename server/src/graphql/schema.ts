import 'reflect-metadata';
import { buildSchema } from 'type-graphql';
import type { GraphQLSchema } from 'graphql';
import { AuthResolver } from '../auth/auth.resolver.js';
import { BuildResolver, BuildersResolver, WorkerProcessResolver } from '../build/build.resolver.js';
import { PackageTrackerResolver } from '../upload/tracker.resolver.js';
import { UploadResolver } from '../upload/upload.resolver.js';
import { PortResolver } from '../port/port.resolver.js';
import { StagingResolver } from '../staging/staging.resolver.js';
import { KeyringResolver } from '../keyring/keyring.resolver.js';
import { SnapshotResolver } from '../snapshot/snapshot.resolver.js';
import { EventResolver } from '../events/event.resolver.js';
import { ConfigResolver } from '../lifecycle/config.resolver.js';
import { ConsumerResolver } from '../repository/consumer.resolver.js';
import { MirrorResolver } from '../repository/mirror.resolver.js';
import { RemoteResolver } from '../remote/remote.resolver.js';
import { SetupResolver } from '../setup/setup.resolver.js';
import { StatusResolver } from '../status/status.resolver.js';
import { SubscriptionResolver } from '../notify/subscription.resolver.js';
import { WebhookResolver } from '../hooks/webhook.resolver.js';
import { UploaderResolver } from '../uploader/uploader.resolver.js';
import { authChecker } from './context.js';

export function buildDebyardSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [
      StatusResolver,
      EventResolver,
      AuthResolver,
      ConfigResolver,
      ConsumerResolver,
      SetupResolver,
      BuildResolver,
      BuildersResolver,
      WorkerProcessResolver,
      PackageTrackerResolver,
      UploadResolver,
      PortResolver,
      SubscriptionResolver,
      WebhookResolver,
      UploaderResolver,
      StagingResolver,
      MirrorResolver,
      KeyringResolver,
      SnapshotResolver,
      RemoteResolver,
    ],
    authChecker,
    validate: false,
    // Subscriptions read from the EventBus (replay + live), not from topics; type-graphql still wants a pubSub.
    pubSub: {
      publish: () => {
        throw new Error('topic-based publishing is not used: record events with EventService');
      },
      subscribe: () => {
        throw new Error('topic-based subscriptions are not used: subscriptions read from EventBus');
      },
    },
  });
}
