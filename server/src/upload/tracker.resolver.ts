import { Arg, Ctx, Field, FieldResolver, Float, ID, Int, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { Build } from '../build/build.entity.js';
import { Event } from '../events/event.entity.js';
import { type Context, isStaff } from '../graphql/context.js';
import { DomainError } from '../graphql/errors.js';
import { createLogger, type Logger } from '../log.js';
import { loadSnapshots, snapshotSources } from '../snapshot/snapshot-sources.js';
import {
  buildTimes,
  checkSourceName,
  packageSummaries,
  sourceBuilds,
  sourceEvents,
  sourceUploads,
  TRACKER_LIMITS,
  trackedVersions,
} from './tracker.js';
import { Upload, UploadState } from './upload.entity.js';

@ObjectType({ description: 'One version of a source package in one distribution of one repository' })
class PackageVersion {
  @Field({ description: 'Repository identity' })
  repository!: string;

  @Field({ description: '<codename>-<repo>-<suite>[-rollback<n>]' })
  distribution!: string;

  @Field()
  version!: string;

  @Field()
  component!: string;

  @Field(() => Int, { nullable: true, description: 'N when the distribution is rollback N of its suite' })
  rollback!: number | null;
}

@ObjectType({ description: 'One version of a source package in one snapshot of a distribution' })
class PackageSnapshotVersion {
  @Field({ description: 'Repository identity' })
  repository!: string;

  @Field({ description: 'The distribution it is a snapshot of: <codename>-<repo>-<suite>' })
  distribution!: string;

  @Field({ description: 'The snapshot’s name (apt suite <distribution>/snapshots/<name>)' })
  snapshot!: string;

  @Field()
  version!: string;

  @Field()
  component!: string;
}

@ObjectType({ description: 'How long one successful build took' })
class BuildTime {
  @Field(() => ID)
  build!: number;

  @Field()
  version!: string;

  @Field()
  architecture!: string;

  @Field(() => Float, { description: 'sbuild’s wall time, or start to finish' })
  seconds!: number;

  @Field(() => Date)
  finishedAt!: Date;
}

@ObjectType({ description: 'A source package that was uploaded here' })
class PackageSummary {
  @Field()
  source!: string;

  @Field(() => String, {
    nullable: true,
    description: 'The version of its newest upload (null if that was rejected unread)',
  })
  latestVersion!: string | null;

  @Field(() => Date)
  lastUploadAt!: Date;

  @Field(() => UploadState, { description: 'What became of its newest upload' })
  lastState!: UploadState;

  @Field(() => Int, { description: 'How many uploads it had' })
  uploads!: number;
}

@ObjectType({
  description:
    'Everything about one source package (as Debian’s package tracker): versions per repository and distribution, uploads, builds, events',
})
class PackageTracker {
  @Field()
  source!: string;
}

function checkFirst(first: number, max: number): number {
  if (!Number.isInteger(first) || first < 1 || first > max)
    throw new DomainError('BAD_USER_INPUT', `first must be between 1 and ${max}, not ${first}`);
  return first;
}

// Resolvers have no logger of their own: reprepro's calls log through this one, as the daemon's do.
let trackerLogger: Logger | undefined;
const logger = (): Logger => (trackerLogger ??= createLogger().child({ component: 'tracker' }));

@Resolver(() => PackageTracker)
export class PackageTrackerResolver {
  @Query(() => PackageTracker, {
    description: 'The package tracker of one source package; a package never uploaded has an empty one',
  })
  package(@Arg('source', () => String) source: string): PackageTracker {
    return { source: checkSourceName(source) };
  }

  @Query(() => [PackageSummary], { description: 'Source packages uploaded here, most recently uploaded first' })
  packages(
    @Ctx() ctx: Context,
    @Arg('search', () => String, { nullable: true, description: 'Part of the source name' }) search?: string,
    @Arg('first', () => Int, { defaultValue: 50 }) first = 50,
  ): Promise<PackageSummary[]> {
    if (search && search.length > 100) throw new DomainError('BAD_USER_INPUT', 'search is longer than 100 characters');
    return packageSummaries(ctx.em, { search, first: checkFirst(first, TRACKER_LIMITS.packages) });
  }

  @FieldResolver(() => [PackageVersion], {
    description: 'Its versions in every distribution of every prepared repository (reprepro)',
  })
  versions(@Ctx() ctx: Context, @Root() tracker: PackageTracker): Promise<PackageVersion[]> {
    const { keys, dataDir } = ctx.services;
    return trackedVersions({ em: ctx.em, keys, dataDir, logger: logger() }, tracker.source);
  }

  @FieldResolver(() => [PackageSnapshotVersion], {
    description:
      'The snapshots that hold it, with the version each holds (per repository and distribution, oldest first)',
  })
  async snapshots(@Ctx() ctx: Context, @Root() tracker: PackageTracker): Promise<PackageSnapshotVersion[]> {
    return snapshotSources(ctx.services.dataDir, await loadSnapshots(ctx.em), tracker.source);
  }

  @FieldResolver(() => [Upload], { description: 'Its uploads, newest first' })
  uploads(
    @Ctx() ctx: Context,
    @Root() tracker: PackageTracker,
    @Arg('first', () => Int, { defaultValue: 50 }) first = 50,
  ): Promise<Upload[]> {
    return sourceUploads(ctx.em, tracker.source, checkFirst(first, TRACKER_LIMITS.uploads));
  }

  @FieldResolver(() => [Build], { description: 'Its builds (test builds included), newest first' })
  builds(
    @Ctx() ctx: Context,
    @Root() tracker: PackageTracker,
    @Arg('first', () => Int, { defaultValue: 100 }) first = 100,
  ): Promise<Build[]> {
    return sourceBuilds(ctx.em, tracker.source, checkFirst(first, TRACKER_LIMITS.builds));
  }

  @FieldResolver(() => [Event], { description: 'Events about it, newest first (the last 100)' })
  events(@Ctx() ctx: Context, @Root() tracker: PackageTracker): Promise<Event[]> {
    return sourceEvents(ctx.em, tracker.source, isStaff(ctx), TRACKER_LIMITS.events);
  }

  @FieldResolver(() => [BuildTime], {
    description: 'How long its successful builds took, oldest first (test builds left out)',
  })
  buildTimes(@Ctx() ctx: Context, @Root() tracker: PackageTracker): Promise<BuildTime[]> {
    return buildTimes(ctx.em, tracker.source, TRACKER_LIMITS.buildTimes);
  }
}
