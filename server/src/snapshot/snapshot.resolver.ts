import { Arg, Authorized, Ctx, Field, FieldResolver, Mutation, ObjectType, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../auth/role.js';
import { type Context, currentUser } from '../graphql/context.js';
import { DomainError } from '../graphql/errors.js';
import { DaemonConfig } from '../instance/daemon-config.entity.js';
import { keyringPath } from '../repository/consumer.js';
import { Snapshot, SnapshotKind } from './snapshot.entity.js';
import { snapshotAptLine } from './snapshot.service.js';

@ObjectType({ description: 'What one run of a snapshot schedule did' })
class SnapshotScheduleRun {
  @Field(() => [Snapshot])
  created!: Snapshot[];

  @Field(() => [Snapshot], { description: 'The snapshots that had expired' })
  deleted!: Snapshot[];
}

@Resolver(() => Snapshot)
export class SnapshotResolver {
  @Query(() => [Snapshot], { description: 'Snapshots, newest first' })
  snapshots(
    @Ctx() ctx: Context,
    @Arg('repository', () => String, { nullable: true }) repository?: string | null,
    @Arg('distribution', () => String, { nullable: true }) distribution?: string | null,
  ): Promise<Snapshot[]> {
    return ctx.services.snapshots.list({ repository, distribution }, ctx.em);
  }

  @FieldResolver(() => String, {
    description: 'The apt line that follows it: deb [signed-by=…] <url>/repositories/<repo>/ <dist>/snapshots/<name> …',
  })
  async aptLine(@Ctx() ctx: Context, @Root() snapshot: Snapshot): Promise<string> {
    const daemon = await ctx.em.findOne(DaemonConfig, 1);
    const identity = daemon?.identity ?? ctx.services.status().identity;
    return snapshotAptLine(snapshot, ctx.services.status().httpUrl, keyringPath(identity));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Snapshot, {
    description:
      'Freezes a distribution as snapshot NAME (reprepro gensnapshot): apt can follow it as <dist>/snapshots/<name> ' +
      'and its packages stay until it is deleted. Refused: DISTRIBUTION_UNKNOWN, BAD_USER_INPUT (name), ALREADY_EXISTS',
  })
  createSnapshot(
    @Ctx() ctx: Context,
    @Arg('distribution', () => String) distribution: string,
    @Arg('name', () => String) name: string,
    @Arg('expiresAt', () => Date, { nullable: true, description: 'Deleted by the next schedule run after then' })
    expiresAt?: Date | null,
  ): Promise<Snapshot> {
    return ctx.services.snapshots.create(distribution, name, currentUser(ctx).username, { expiresAt });
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Snapshot, {
    description: 'Deletes a snapshot and the packages only it kept (NOT_FOUND when there is none)',
  })
  deleteSnapshot(
    @Ctx() ctx: Context,
    @Arg('distribution', () => String) distribution: string,
    @Arg('name', () => String) name: string,
  ): Promise<Snapshot> {
    return ctx.services.snapshots.delete(distribution, name, currentUser(ctx).username);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => SnapshotScheduleRun, {
    description:
      'Runs a snapshot schedule now, as its cron job does: a snapshot of each stable suite of the repositories ' +
      'that keep that kind, then the expired snapshots are deleted',
  })
  runSnapshotSchedule(
    @Ctx() ctx: Context,
    @Arg('kind', () => SnapshotKind) kind: SnapshotKind,
  ): Promise<SnapshotScheduleRun> {
    if (kind === SnapshotKind.MANUAL)
      throw new DomainError('BAD_USER_INPUT', 'MANUAL is not a schedule: use WEEKLY, MONTHLY or YEARLY', {
        field: 'kind',
      });
    return ctx.services.snapshots.runSchedule(kind);
  }
}
