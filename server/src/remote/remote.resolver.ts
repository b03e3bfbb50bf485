import { Arg, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { Role } from '../auth/role.js';
import type { Context } from '../graphql/context.js';
import { ConfigKind } from '../lifecycle/config-kind.js';
import { Remote } from './remote.entity.js';

@Resolver()
export class RemoteResolver {
  @Query(() => [Remote], { description: 'The remotes this instance builds with, and what they last said' })
  async remotes(@Ctx() ctx: Context): Promise<Remote[]> {
    return (await ctx.services.config.list(ctx.em, ConfigKind.REMOTE)) as Remote[];
  }

  @Authorized(Role.STAFF)
  @Mutation(() => Remote, {
    description: 'Asks a remote for its status, running its wake command while it does not answer (mini-buildd’s wake)',
  })
  wakeRemote(@Ctx() ctx: Context, @Arg('url') url: string): Promise<Remote> {
    return ctx.services.remotes.wake(url);
  }
}
