import { Arg, Ctx, ID, Int, Query, Resolver, Root, Subscription } from 'type-graphql';
import { type Context, isStaff } from '../graphql/context.js';
import { DomainError } from '../graphql/errors.js';
import { Event } from './event.entity.js';
import { isStaffOnly } from './event.service.js';
import { EventStream } from './event-stream.js';

const MAX_PAGE = 500;

function checkCursor(name: string, value: string | null | undefined): string | undefined {
  if (value == null) return undefined;
  if (!/^\d{1,19}$/.test(value))
    throw new DomainError('BAD_USER_INPUT', `${name} must be an event id (a whole number), not "${value}"`);
  return value;
}

@Resolver(() => Event)
export class EventResolver {
  @Query(() => [Event], { description: 'Events, newest first; with `after`, oldest first from there' })
  async events(
    @Ctx() ctx: Context,
    @Arg('before', () => ID, { nullable: true, description: 'Only events older than this id' }) before?: string,
    @Arg('after', () => ID, { nullable: true, description: 'Only events newer than this id, oldest first' })
    after?: string,
    @Arg('limit', () => Int, { defaultValue: 50 }) limit = 50,
  ): Promise<Event[]> {
    if (limit < 1 || limit > MAX_PAGE)
      throw new DomainError('BAD_USER_INPUT', `limit must be between 1 and ${MAX_PAGE}, not ${limit}`);
    return ctx.services.events.list(ctx.em, {
      before: checkCursor('before', before),
      after: checkCursor('after', after),
      limit,
      includeStaffOnly: isStaff(ctx),
    });
  }

  @Subscription(() => Event, {
    name: 'events',
    description:
      'Every event after `since` (omit it for new events only), then live ones: no gap and no duplicate, so a client that reconnects with the last id it saw misses nothing',
    subscribe: ({ args, context }) => {
      const ctx = context as Context;
      const staff = isStaff(ctx);
      return new EventStream(
        ctx.services.bus,
        ctx.services.events,
        ctx.em,
        checkCursor('since', (args as { since?: string | null }).since),
        (event) => staff || !isStaffOnly(event.type),
      );
    },
  })
  eventStream(@Root() event: Event, @Arg('since', () => ID, { nullable: true }) _since?: string): Event {
    return event;
  }
}
