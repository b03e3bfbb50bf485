import {
  Arg,
  Authorized,
  Ctx,
  Field,
  FieldResolver,
  Float,
  ID,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
  Subscription,
} from 'type-graphql';
import { Role } from '../auth/role.js';
import { Chroot } from '../chroot/chroot.entity.js';
import { chrootLogPath } from '../chroot/chroot-ops.js';
import { type Context, currentUser } from '../graphql/context.js';
import { DomainError } from '../graphql/errors.js';
import { firstArg, idArg, type Page, PageOf, toPage } from '../graphql/paging.js';
import { Build, BuildResult, BuildState } from './build.entity.js';
import { LogChunk, tailLog } from './log-tail.js';
import { WORKER_DEAD_AFTER_S, WorkerProcess } from './worker-process.entity.js';

const BuildPage = PageOf('BuildPage', Build, {
  page: 'A page of builds, newest first',
  totalCount: 'Builds matching the filter, on all pages',
  hasMore: 'Older builds follow: ask again with before = the last id',
});

@ObjectType({ description: 'Load and queue length at one moment' })
class BuilderSample {
  @Field(() => Date)
  at!: Date;

  @Field(() => Float, { description: 'Busy slots / slots' })
  load!: number;

  @Field(() => Int)
  queued!: number;
}

@ObjectType({ description: 'This instance’s builder: slots, load, queue' })
class Builders {
  @Field(() => Int, { description: 'Build slots (the daemon’s maxParallelBuilds, applied when the engine starts)' })
  slots!: number;

  @Field(() => Int)
  busy!: number;

  @Field(() => Float, { description: 'busy / slots, never above 1' })
  load!: number;

  @Field(() => Int)
  queued!: number;

  @Field(() => [Build])
  running!: Build[];

  @Field(() => [WorkerProcess], { description: '`debyard worker` processes taking builds from this instance’s queue' })
  workers!: WorkerProcess[];
}

@Resolver(() => Builders)
export class BuildersResolver {
  @FieldResolver(() => [BuilderSample], { description: 'Load and queue length over the last hours, 60 samples' })
  history(@Ctx() ctx: Context, @Arg('hours', () => Int, { defaultValue: 6 }) hours = 6): Promise<BuilderSample[]> {
    if (hours < 1 || hours > 24 * 14)
      throw new DomainError('BAD_USER_INPUT', `hours must be between 1 and ${24 * 14}, not ${hours}`);
    return ctx.services.builds.history(ctx.em, hours);
  }
}

@Resolver(() => WorkerProcess)
export class WorkerProcessResolver {
  @FieldResolver(() => Int, { description: 'Its builds running now' })
  busy(@Ctx() ctx: Context, @Root() worker: WorkerProcess): Promise<number> {
    return ctx.em.count(Build, { state: BuildState.BUILDING, sentTo: null, builder: worker.name });
  }

  @FieldResolver(() => Boolean, {
    description: `Seen within ${WORKER_DEAD_AFTER_S} s; a dead worker's builds go back to the queue and its row goes`,
  })
  alive(@Root() worker: WorkerProcess): boolean {
    return Date.now() - worker.lastSeenAt.getTime() < WORKER_DEAD_AFTER_S * 1000;
  }
}

const buildId = (value: string): number => idArg('a build', value);

function offsetArg(value: number | null | undefined): number {
  const o = value ?? 0;
  if (!Number.isInteger(o) || o < 0)
    throw new DomainError('BAD_USER_INPUT', `offset must be a whole number of bytes, not ${o}`);
  return o;
}

@Resolver(() => Build)
export class BuildResolver {
  @Query(() => BuildPage, { description: 'Builds, newest first, filtered; page with before = the last id seen' })
  async builds(
    @Ctx() ctx: Context,
    @Arg('state', () => BuildState, { nullable: true }) state?: BuildState,
    @Arg('result', () => BuildResult, { nullable: true }) result?: BuildResult,
    @Arg('source', () => String, { nullable: true }) source?: string,
    @Arg('distribution', () => String, { nullable: true }) distribution?: string,
    @Arg('architecture', () => String, { nullable: true }) architecture?: string,
    @Arg('first', () => Int, { defaultValue: 50 }) first = 50,
    @Arg('before', () => ID, { nullable: true }) before?: string,
  ): Promise<Page<Build>> {
    firstArg(first);
    const page = await ctx.services.builds.list(
      ctx.em,
      { state, result, source, distribution, architecture },
      first + 1,
      before === undefined || before === null ? undefined : buildId(before),
    );
    return toPage(page.nodes, first, page.totalCount);
  }

  @Query(() => Build, { nullable: true })
  build(@Ctx() ctx: Context, @Arg('id', () => ID) id: string): Promise<Build | null> {
    return ctx.em.findOne(Build, buildId(id));
  }

  @Query(() => Builders)
  async builders(@Ctx() ctx: Context): Promise<Builders> {
    const b = ctx.services.builds;
    return {
      slots: b.slots,
      busy: b.busy,
      load: b.load,
      queued: await b.queuedCount(ctx.em),
      running: await ctx.em.find(Build, { state: BuildState.BUILDING }, { orderBy: { id: 'asc' } }),
      workers: await ctx.em.find(WorkerProcess, {}, { orderBy: { name: 'asc' } }),
    };
  }

  @FieldResolver(() => String, { description: 'The build log as plain text (supports Range)' })
  logUrl(@Root() build: Build): string {
    return `/logs/${build.id}`;
  }

  @Authorized(Role.STAFF)
  @Mutation(() => Build, { description: 'Cancels a queued or running build; it ends as CANCELLED' })
  cancelBuild(@Ctx() ctx: Context, @Arg('id', () => ID) id: string): Promise<Build> {
    return ctx.services.builds.cancel(buildId(id), currentUser(ctx).username);
  }

  @Authorized(Role.STAFF)
  @Mutation(() => Build, { description: 'Queues a finished build again' })
  retryBuild(@Ctx() ctx: Context, @Arg('id', () => ID) id: string): Promise<Build> {
    return ctx.services.builds.retry(buildId(id), currentUser(ctx).username);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Build, {
    description:
      'Builds a source package without installing it, to check a chroot: dsc is an http(s) URL or an absolute path on the daemon’s host; distribution is a codename or <codename>-<repo>-<suite>',
  })
  testBuild(
    @Ctx() ctx: Context,
    @Arg('dsc') dsc: string,
    @Arg('distribution') distribution: string,
    @Arg('architecture') architecture: string,
  ): Promise<Build> {
    return ctx.services.builds.testBuild(
      dsc.trim(),
      distribution.trim(),
      architecture.trim(),
      currentUser(ctx).username,
    );
  }

  @Subscription(() => LogChunk, {
    name: 'buildLog',
    description: 'The build log from offset (bytes), then live until the build ends; the last chunk has done: true',
    subscribe: async ({ args, context }) => {
      const ctx = context as Context;
      const { id, offset } = args as { id: string; offset?: number | null };
      const build = await ctx.em.findOne(Build, buildId(id));
      if (!build) throw new DomainError('NOT_FOUND', `there is no build ${id}`);
      const em = ctx.em.fork();
      return tailLog(ctx.services.builds.logPath(build.id), offsetArg(offset), {
        finished: async () => {
          const now = await em.fork().findOne(Build, build.id);
          return !now || now.state === BuildState.BUILT;
        },
      });
    },
  })
  buildLog(
    @Root() chunk: LogChunk,
    @Arg('id', () => ID) _id: string,
    @Arg('offset', () => Float, { nullable: true }) _offset?: number,
  ): LogChunk {
    return chunk;
  }

  @Subscription(() => LogChunk, {
    name: 'chrootLog',
    description: 'What creating or refreshing a chroot printed, from offset, then live until it is idle',
    subscribe: async ({ args, context }) => {
      const ctx = context as Context;
      const { key, offset } = args as { key: string; offset?: number | null };
      const chroots = await ctx.em.find(Chroot, {}, { populate: ['source'] });
      const chroot = chroots.find((c) => c.key === key);
      if (!chroot) throw new DomainError('NOT_FOUND', `there is no chroot ${key}: see \`debyard chroot list\``);
      const em = ctx.em.fork();
      return tailLog(chrootLogPath(ctx.services.dataDir, chroot.key), offsetArg(offset), {
        finished: async () => (await em.fork().findOne(Chroot, chroot.id))?.phase == null,
      });
    },
  })
  chrootLog(
    @Root() chunk: LogChunk,
    @Arg('key') _key: string,
    @Arg('offset', () => Float, { nullable: true }) _offset?: number,
  ): LogChunk {
    return chunk;
  }
}
