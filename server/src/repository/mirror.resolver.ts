import { Arg, Authorized, Ctx, Field, Float, Int, Mutation, ObjectType, Resolver } from 'type-graphql';
import { Role } from '../auth/role.js';
import type { Context } from '../graphql/context.js';

@ObjectType({ description: 'A signed copy of a repository written into a directory (mirrorRepository)' })
class MirrorResult {
  @Field()
  repository!: string;

  @Field({ description: 'The directory, as the daemon resolved it' })
  directory!: string;

  @Field(() => [String], { description: 'The distributions copied (<codename>-<repo>-<suite>[-rollback<n>])' })
  distributions!: string[];

  @Field(() => [String], { description: 'The binary architectures copied (sources always are)' })
  architectures!: string[];

  @Field(() => [String], {
    description:
      'Distributions whose Release lists fewer indices than the original, signed again with the instance key',
  })
  resigned!: string[];

  @Field(() => Int, { description: 'Pool files the copied indices need' })
  poolFiles!: number;

  @Field(() => Float, { description: 'Bytes in the copy (pool and dists)' })
  bytes!: number;

  @Field(() => Float)
  seconds!: number;
}

@Resolver()
export class MirrorResolver {
  @Authorized(Role.ADMIN)
  @Mutation(() => MirrorResult, {
    description:
      'Writes a complete, signed copy of a repository, or of chosen codenames, suites and architectures of it, into ' +
      'a directory on the daemon’s host that can be copied to any web space (dists with by-hash, the pool files ' +
      'they need). The directory must be new, empty or an earlier mirror, which is updated. Refused with ' +
      'BAD_USER_INPUT (extensions.field), NOT_FOUND, LIFECYCLE, UNKNOWN_DISTRIBUTION, UNKNOWN_ARCHITECTURE or ' +
      'MIRROR_DIRECTORY_IN_USE before anything is written',
  })
  mirrorRepository(
    @Ctx() ctx: Context,
    @Arg('repository', () => String) repository: string,
    @Arg('directory', () => String, { description: 'An absolute path on the daemon’s host' }) directory: string,
    @Arg('codenames', () => [String], { nullable: true, description: 'Default: all' }) codenames?: string[] | null,
    @Arg('suites', () => [String], { nullable: true, description: 'Default: all' }) suites?: string[] | null,
    @Arg('architectures', () => [String], { nullable: true, description: 'Default: all' })
    architectures?: string[] | null,
    @Arg('rollbacks', () => Int, { defaultValue: 0, description: 'Rollback distributions per suite to copy too' })
    rollbacks?: number,
  ): Promise<MirrorResult> {
    return ctx.services.mirror.mirror(ctx.em, { repository, directory, codenames, suites, architectures, rollbacks });
  }
}
