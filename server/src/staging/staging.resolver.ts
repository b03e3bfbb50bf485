import {
  Arg,
  Authorized,
  Ctx,
  Field,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  registerEnumType,
} from 'type-graphql';
import { Role } from '../auth/role.js';
import { type Context, currentUser } from '../graphql/context.js';
import { StagingAction } from './plan.js';
import type { StagingOutcome } from './staging.js';

registerEnumType(StagingAction, { name: 'StagingAction', description: 'Migrate, remove or restore' });

@ObjectType({ description: 'One distribution whose version of the source changes' })
class DistributionChange {
  @Field()
  distribution!: string;

  @Field(() => String, { nullable: true, description: 'Null: it had none' })
  before!: string | null;

  @Field(() => String, { nullable: true, description: 'Null: it has none afterwards' })
  after!: string | null;
}

@ObjectType({ description: 'A suite the source enters (a migration), leaves (a removal) or returns to (a restore)' })
class StagingStep {
  @Field()
  from!: string;

  @Field(() => String, { nullable: true, description: 'Null for a removal' })
  to!: string | null;
}

@ObjectType({ description: 'A binary package that could not be installed in the target' })
class BrokenPackage {
  @Field()
  package!: string;

  @Field()
  version!: string;

  @Field()
  architecture!: string;

  @Field({ description: 'The target it was checked against' })
  distribution!: string;

  @Field(() => [String], { description: 'What is missing or in conflict' })
  reasons!: string[];

  @Field(() => [String], { description: 'The names of the unsatisfied dependencies' })
  missing!: string[];
}

@ObjectType({ description: 'The dependency check of a migration (dose-distcheck)' })
class DependencyCheck {
  @Field({ description: 'False when it was skipped' })
  checked!: boolean;

  @Field({ description: 'Skipped because the migration was forced' })
  forced!: boolean;

  @Field(() => [String], { description: 'The base distribution and extra sources it was checked with' })
  against!: string[];

  @Field(() => [BrokenPackage])
  broken!: BrokenPackage[];
}

@ObjectType({ description: 'What a migration, removal or restore does (or did), distribution by distribution' })
class RepositoryChange {
  @Field(() => StagingAction)
  action!: StagingAction;

  @Field()
  source!: string;

  @Field()
  version!: string;

  @Field({ description: 'Repository identity' })
  repository!: string;

  @Field({
    description: 'Migrate: where it comes from; remove: where it leaves; restore: where it goes back into',
  })
  distribution!: string;

  @Field(() => [StagingStep])
  steps!: StagingStep[];

  @Field(() => [DistributionChange], { description: 'Every distribution whose version changes' })
  changes!: DistributionChange[];

  @Field(() => [String], { description: 'What happens, one sentence each' })
  summary!: string[];

  @Field(() => DependencyCheck, { nullable: true, description: 'Migrations: the dependency check' })
  dependencies!: DependencyCheck | null;
}

@ObjectType({ description: 'A rollback of a suite holding a version of the source' })
class BrowserRollback {
  @Field(() => Int)
  rollback!: number;

  @Field()
  distribution!: string;

  @Field()
  version!: string;
}

@ObjectType({ description: 'A snapshot of the distribution that holds the source' })
class BrowserSnapshot {
  @Field({ description: 'The snapshot’s name (apt suite <distribution>/snapshots/<name>)' })
  name!: string;

  @Field()
  version!: string;
}

@ObjectType({
  description: 'A source in one suite of one codename: the version there, its rollbacks and the snapshots holding it',
})
class BrowserEntry {
  @Field()
  source!: string;

  @Field()
  codename!: string;

  @Field()
  suite!: string;

  @Field({ description: '<codename>-<repo>-<suite>' })
  distribution!: string;

  @Field(() => String, { nullable: true, description: 'Null: only its rollbacks or snapshots hold it' })
  version!: string | null;

  @Field(() => [BrowserRollback])
  rollbacks!: BrowserRollback[];

  @Field(() => [BrowserSnapshot], { description: 'Oldest first' })
  snapshots!: BrowserSnapshot[];
}

@ObjectType({ description: 'A suite of the repository’s layout' })
class BrowserSuite {
  @Field()
  name!: string;

  @Field(() => String, { nullable: true })
  migratesTo!: string | null;

  @Field(() => Int)
  rollbacks!: number;

  @Field()
  uploadable!: boolean;
}

@ObjectType({ description: 'Every source package of a repository, as published: codename × suite × package' })
class RepositoryBrowser {
  @Field()
  repository!: string;

  @Field(() => [String])
  codenames!: string[];

  @Field(() => [BrowserSuite], {
    description: 'Along the migrations (unstable, testing, stable), experimental suites last',
  })
  suites!: BrowserSuite[];

  @Field(() => [BrowserEntry])
  entries!: BrowserEntry[];
}

@ObjectType({ description: 'debdiff between two versions of a source in a repository' })
class DebdiffResult {
  @Field()
  repository!: string;

  @Field()
  source!: string;

  @Field()
  from!: string;

  @Field()
  to!: string;

  @Field({ description: 'debdiff’s output' })
  text!: string;

  @Field({ description: 'debdiff found no differences' })
  identical!: boolean;

  @Field({ description: 'The text was cut at 1 MiB' })
  truncated!: boolean;
}

@Resolver()
export class StagingResolver {
  @Authorized(Role.STAFF)
  @Query(() => RepositoryChange, {
    description:
      'What migrate, remove or restore would do, refused with the same codes; changes nothing. ' +
      'checkDependencies also runs a migration’s dependency check',
  })
  stagingPlan(
    @Ctx() ctx: Context,
    @Arg('action', () => StagingAction) action: StagingAction,
    @Arg('source', () => String) source: string,
    @Arg('distribution', () => String) distribution: string,
    @Arg('version', () => String, { nullable: true }) version?: string | null,
    @Arg('full', { defaultValue: false }) full?: boolean,
    @Arg('keepRollback', { defaultValue: true }) keepRollback?: boolean,
    @Arg('rollback', () => Int, { nullable: true }) rollback?: number | null,
    @Arg('checkDependencies', { defaultValue: false }) checkDependencies?: boolean,
  ): Promise<StagingOutcome> {
    return ctx.services.staging.plan(
      action === StagingAction.RESTORE
        ? { action, source, distribution, rollback: rollback ?? -1 }
        : action === StagingAction.MIGRATE
          ? { action, source, distribution, version, full }
          : { action, source, distribution, version, keepRollback },
      { checkDependencies },
    );
  }

  @Authorized(Role.STAFF)
  @Mutation(() => RepositoryChange, {
    description:
      'Copies a source version from a suite to the one it migrates to (full: along the whole chain), shifting ' +
      'what is there into rollback0; refused when the binary packages’ dependencies cannot be satisfied there ' +
      '(DEPENDENCIES_UNSATISFIED) unless forced, and with SOURCE_NOT_FOUND, ALREADY_MIGRATED, NO_MIGRATION_TARGET, ' +
      'ROLLBACK_DISTRIBUTION, VERSION_LOWER',
  })
  migrate(
    @Ctx() ctx: Context,
    @Arg('source', () => String) source: string,
    @Arg('distribution', () => String, { description: 'The suite it migrates from' }) distribution: string,
    @Arg('version', () => String, { nullable: true, description: 'Default: the one there' }) version?: string | null,
    @Arg('full', { defaultValue: false, description: 'Along the whole chain (unstable → testing → stable)' })
    full?: boolean,
    @Arg('force', { defaultValue: false, description: 'Skip the dependency check' }) force?: boolean,
  ): Promise<StagingOutcome> {
    return ctx.services.staging.apply(
      { action: StagingAction.MIGRATE, source, distribution, version, full },
      currentUser(ctx).username,
      { force },
    );
  }

  @Authorized(Role.STAFF)
  @Mutation(() => RepositoryChange, {
    description:
      'Removes a source from a distribution, keeping its version as rollback0 (unless keepRollback is false); ' +
      'from a rollback distribution, the rollbacks above move down one. Refused with SOURCE_NOT_FOUND',
  })
  remove(
    @Ctx() ctx: Context,
    @Arg('source', () => String) source: string,
    @Arg('distribution', () => String) distribution: string,
    @Arg('version', () => String, { nullable: true, description: 'Default: the one there' }) version?: string | null,
    @Arg('keepRollback', { defaultValue: true }) keepRollback?: boolean,
  ): Promise<StagingOutcome> {
    return ctx.services.staging.apply(
      { action: StagingAction.REMOVE, source, distribution, version, keepRollback },
      currentUser(ctx).username,
    );
  }

  @Authorized(Role.STAFF)
  @Mutation(() => RepositoryChange, {
    description:
      'Copies rollback N of a distribution back into it; what it holds goes into rollback0 first. Refused with ' +
      'ROLLBACK_OUT_OF_RANGE, ROLLBACK_EMPTY, VERSION_EXISTS, ROLLBACK_DISTRIBUTION, ROLLBACK_FULL',
  })
  restore(
    @Ctx() ctx: Context,
    @Arg('source', () => String) source: string,
    @Arg('distribution', () => String) distribution: string,
    @Arg('rollback', () => Int) rollback: number,
  ): Promise<StagingOutcome> {
    return ctx.services.staging.apply(
      { action: StagingAction.RESTORE, source, distribution, rollback },
      currentUser(ctx).username,
    );
  }

  @Query(() => RepositoryBrowser, {
    description: 'Every source package of a repository with versions, rollbacks and the snapshots holding it',
  })
  repositoryBrowser(@Ctx() ctx: Context, @Arg('repository', () => String) repository: string) {
    return ctx.services.staging.browse(repository);
  }

  @Query(() => DebdiffResult, {
    description: 'debdiff between two versions of a source in a repository (default: the first that has both)',
  })
  debdiff(
    @Ctx() ctx: Context,
    @Arg('source', () => String) source: string,
    @Arg('from', () => String) from: string,
    @Arg('to', () => String) to: string,
    @Arg('repository', () => String, { nullable: true }) repository?: string | null,
  ) {
    return ctx.services.staging.debdiff({ source, from, to, repository });
  }
}
