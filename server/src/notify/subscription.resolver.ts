import { Arg, Authorized, Ctx, ID, Mutation, Query, Resolver } from 'type-graphql';
import { currentUser, type Context } from '../graphql/context.js';
import { PackageSubscription } from './subscription.entity.js';

@Resolver(() => PackageSubscription)
export class SubscriptionResolver {
  @Authorized()
  @Query(() => [PackageSubscription], {
    description: 'Your notification subscriptions; an administrator may name another user',
  })
  subscriptions(
    @Ctx() ctx: Context,
    @Arg('username', () => String, { nullable: true }) username?: string | null,
  ): Promise<PackageSubscription[]> {
    return ctx.services.subscriptions.list(ctx.em, currentUser(ctx), username);
  }

  @Authorized()
  @Mutation(() => PackageSubscription, {
    description: 'Mail about a source and/or distribution (left out: all) to your e-mail address',
  })
  subscribe(
    @Ctx() ctx: Context,
    @Arg('source', () => String, { nullable: true }) source?: string | null,
    @Arg('distribution', () => String, { nullable: true }) distribution?: string | null,
    @Arg('username', () => String, { nullable: true, description: 'Another user (administrators)' })
    username?: string | null,
  ): Promise<PackageSubscription> {
    return ctx.services.subscriptions.subscribe(ctx.em, currentUser(ctx), { source, distribution, username });
  }

  @Authorized()
  @Mutation(() => PackageSubscription, { description: 'Ends a subscription: yours, or anybody’s as an administrator' })
  unsubscribe(@Ctx() ctx: Context, @Arg('id', () => ID) id: string): Promise<PackageSubscription> {
    return ctx.services.subscriptions.unsubscribe(ctx.em, currentUser(ctx), Number(id));
  }
}
