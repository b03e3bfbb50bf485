import { Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { Role } from '../auth/role.js';
import { type Context, currentUser } from '../graphql/context.js';
import { Status } from './status.js';

@Resolver()
export class StatusResolver {
  @Query(() => Status)
  status(@Ctx() ctx: Context): Status {
    return ctx.services.status();
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Status, { description: 'Starts incoming and processing (HTTP always runs)' })
  async engineStart(@Ctx() ctx: Context): Promise<Status> {
    await ctx.services.engine.start(currentUser(ctx).username);
    return ctx.services.status();
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Status, { description: 'Stops incoming and processing; HTTP keeps serving' })
  async engineStop(@Ctx() ctx: Context): Promise<Status> {
    await ctx.services.engine.stop(currentUser(ctx).username);
    return ctx.services.status();
  }
}
