import { Arg, Authorized, Ctx, Field, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { Role } from '../auth/role.js';
import { type Context, currentUser } from '../graphql/context.js';
import { Upload } from '../upload/upload.entity.js';
import type { PortPlan, PortRequest } from './port.js';

@ObjectType({ description: 'One distribution a port goes to, and the version it will have there' })
class PortTarget {
  @Field({ description: '<codename>-<repo>-<suite>' })
  distribution!: string;

  @Field({ description: 'Repository identity' })
  repository!: string;

  @Field()
  version!: string;

  @Field({ description: 'A rebuild in the from-distribution (+rebuilt<stamp>) rather than a port' })
  rebuild!: boolean;
}

@ObjectType({ description: 'What a port will upload, signed by the instance key' })
class PortPlanResult {
  @Field()
  source!: string;

  @Field({ description: 'The from-distribution (a meta-distribution resolved)' })
  from!: string;

  @Field({ description: 'The version taken from it' })
  fromVersion!: string;

  @Field(() => [String], { description: 'The upload options of the new changelog entry (key=value)' })
  options!: string[];

  @Field({ description: 'The time stamp of rebuilds (UTC, YYYYmmddHHMMSS); give it to port to make exactly these' })
  rebuildStamp!: string;

  @Field(() => [PortTarget])
  targets!: PortTarget[];
}

const request = (
  ctx: Context,
  source: string,
  from: string,
  to: string[],
  version: string | null | undefined,
  options: string[] | null | undefined,
  rebuildStamp?: string | null,
): PortRequest => ({ source, from, to, version, options, rebuildStamp, by: currentUser(ctx).username });

@Resolver()
export class PortResolver {
  @Authorized(Role.STAFF)
  @Query(() => PortPlanResult, {
    description:
      'What port would upload (the new version per target), refused with the same codes as port; changes nothing',
  })
  async portPlan(
    @Ctx() ctx: Context,
    @Arg('source', () => String) source: string,
    @Arg('from', () => String) from: string,
    @Arg('to', () => [String]) to: string[],
    @Arg('version', () => String, { nullable: true }) version?: string | null,
    @Arg('options', () => [String], { nullable: true }) options?: string[] | null,
  ): Promise<PortPlanResult> {
    const plan: PortPlan = await ctx.services.ports.plan(request(ctx, source, from, to, version, options));
    return plan;
  }

  @Authorized(Role.STAFF)
  @Mutation(() => [Upload], {
    description:
      'No-changes port of a source version from one distribution to others (or a rebuild in the same one): ' +
      'one upload per target, signed by the instance key, through the normal checks, builds and install. ' +
      'Refused with the upload checks’ codes (DISTRIBUTION_UNKNOWN, SUITE_NOT_UPLOADABLE, VERSION_EXISTS, …) ' +
      'or SOURCE_NOT_FOUND before anything is made',
  })
  port(
    @Ctx() ctx: Context,
    @Arg('source', () => String) source: string,
    @Arg('from', () => String) from: string,
    @Arg('to', () => [String]) to: string[],
    @Arg('version', () => String, { nullable: true, description: 'The version in from; default: the one there' })
    version?: string | null,
    @Arg('options', () => [String], {
      nullable: true,
      description: 'Upload options (key=value) for the new changelog entry; default lintian-mode=ignore',
    })
    options?: string[] | null,
    @Arg('rebuildStamp', () => String, { nullable: true, description: 'The rebuildStamp of a portPlan' })
    rebuildStamp?: string | null,
  ): Promise<Upload[]> {
    return ctx.services.ports.port(request(ctx, source, from, to, version, options, rebuildStamp));
  }

  @Authorized(Role.STAFF)
  @Mutation(() => [Upload], {
    description:
      'External no-changes port of a .dsc from an http(s) URL (mini-buildd’s port_ext): its signature verified ' +
      'against the target distributions’ base sources and their origin’s developer keyrings unless ' +
      'allowUnauthenticated, then one upload per target with version <dsc Version><target default version>, ' +
      'signed by the instance key. Refused before anything is uploaded (DSC_NOT_FOUND, DSC_INVALID, ' +
      'SOURCE_FILE_MISSING, CHECKSUM_MISMATCH, DSC_SIGNATURE, the upload checks’ codes)',
  })
  portExternal(
    @Ctx() ctx: Context,
    @Arg('dscUrl', () => String) dscUrl: string,
    @Arg('to', () => [String]) to: string[],
    @Arg('allowUnauthenticated', () => Boolean, { defaultValue: false }) allowUnauthenticated: boolean,
    @Arg('options', () => [String], {
      nullable: true,
      description: 'Upload options (key=value) for the new changelog entry; default lintian-mode=ignore',
    })
    options?: string[] | null,
  ): Promise<Upload[]> {
    return ctx.services.ports.portExternal({
      dscUrl,
      to,
      allowUnauthenticated,
      options,
      by: currentUser(ctx).username,
    });
  }

  @Authorized(Role.STAFF)
  @Query(() => [String], {
    description: 'The distributions a port can go to: every uploadable suite of every active distribution',
  })
  portTargets(@Ctx() ctx: Context): Promise<string[]> {
    return ctx.services.ports.targets();
  }
}
