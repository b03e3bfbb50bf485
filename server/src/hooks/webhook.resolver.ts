import { Arg, Authorized, Ctx, Field, ID, InputType, Int, Mutation, ObjectType, Query, Resolver } from 'type-graphql';
import { Role } from '../auth/role.js';
import { currentUser, type Context } from '../graphql/context.js';
import { Webhook } from './webhook.entity.js';

@InputType({ description: 'A new outgoing webhook' })
class WebhookInput {
  @Field({ description: 'http(s) URL the events are POSTed to' })
  url!: string;

  @Field({ description: 'HMAC-SHA256 key, 16 to 256 printable ASCII characters; never shown again' })
  secret!: string;

  @Field(() => [String], {
    nullable: true,
    description: 'Event types to deliver (e.g. INSTALLED, FAILED); left out or empty: every type',
  })
  eventTypes?: string[] | null;

  @Field(() => Boolean, { nullable: true, description: 'Deliver at once (default true)' })
  active?: boolean | null;
}

@ObjectType({ description: 'How a test delivery went' })
class WebhookTestResult {
  @Field({ description: 'The target answered 2xx' })
  ok!: boolean;

  @Field(() => Int, { nullable: true, description: 'The HTTP status; null when there was no answer' })
  status!: number | null;

  @Field({ description: 'For people: "HTTP 200 in 12 ms", "connection refused (ECONNREFUSED)", …' })
  message!: string;

  @Field(() => Int)
  ms!: number;
}

@Resolver(() => Webhook)
export class WebhookResolver {
  @Authorized(Role.ADMIN)
  @Query(() => [Webhook], { description: 'The outgoing webhooks' })
  webhooks(@Ctx() ctx: Context): Promise<Webhook[]> {
    return ctx.services.webhooks.list(ctx.em);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Webhook, { description: 'Adds a webhook: each event (of the chosen types) POSTed as signed JSON' })
  addWebhook(@Ctx() ctx: Context, @Arg('input', () => WebhookInput) input: WebhookInput): Promise<Webhook> {
    return ctx.services.webhooks.add(ctx.em, currentUser(ctx), input);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Webhook, { description: 'Removes a webhook; its queued deliveries are dropped' })
  removeWebhook(@Ctx() ctx: Context, @Arg('id', () => ID) id: string): Promise<Webhook> {
    return ctx.services.webhooks.remove(ctx.em, currentUser(ctx), Number(id));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => Webhook, { description: 'Switches a webhook on or off' })
  setWebhookActive(
    @Ctx() ctx: Context,
    @Arg('id', () => ID) id: string,
    @Arg('active', () => Boolean) active: boolean,
  ): Promise<Webhook> {
    return ctx.services.webhooks.setActive(ctx.em, currentUser(ctx), Number(id), active);
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => WebhookTestResult, { description: 'POSTs a signed PING to a webhook now and says how it went' })
  async testWebhook(@Ctx() ctx: Context, @Arg('id', () => ID) id: string): Promise<WebhookTestResult> {
    const r = await ctx.services.webhooks.test(ctx.em, Number(id));
    return { ok: r.outcome === 'accepted', status: r.status, message: r.message, ms: r.ms };
  }
}
