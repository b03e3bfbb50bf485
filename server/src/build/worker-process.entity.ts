import { Entity, OptionalProps, PrimaryKey, Property, type EntityManager } from '@mikro-orm/postgresql';
import { Field, Int, ObjectType } from 'type-graphql';

/** A worker writes its row every 5 s; one not seen for this long is dead. */
export const WORKER_DEAD_AFTER_S = 30;

/**
 * A `debyard worker` process that takes builds from this instance's job queue (issue 8, part 4). The
 * worker writes its own row: on start, every few seconds (lastSeenAt) and, on a clean stop, it deletes
 * it. The packager reads it for the builders page and to find dead workers: a row not seen for a while
 * belongs to a worker that died, whose queue locks (poolIds) are released and whose builds go back to
 * the queue.
 */
@ObjectType('Worker', { description: 'A `debyard worker` process taking builds from this instance’s queue' })
@Entity({ tableName: 'worker_process' })
export class WorkerProcess {
  [OptionalProps]?: 'startedAt' | 'lastSeenAt' | 'poolIds';

  /** The worker's --name; also the `builder` of the builds it runs. */
  @Field({ description: 'Its --name; the builder of the builds it runs' })
  @PrimaryKey({ type: 'text' })
  name!: string;

  @Field({ description: 'The host it runs on' })
  @Property({ type: 'text' })
  host!: string;

  @Field(() => Int)
  @Property({ type: 'integer' })
  pid!: number;

  @Field(() => Int, { description: 'Builds it runs at a time' })
  @Property({ type: 'integer' })
  slots!: number;

  /** graphile-worker's ids of the process's worker pools (the `locked_by` of the jobs it holds). */
  @Property({ type: 'json' })
  poolIds: string[] = [];

  @Field(() => Date)
  @Property({ type: 'timestamptz' })
  startedAt: Date = new Date();

  @Field(() => Date, { description: 'Its last heartbeat (every 5 s while it runs)' })
  @Property({ type: 'timestamptz' })
  lastSeenAt: Date = new Date();
}

/** Workers alive now (seen within WORKER_DEAD_AFTER_S). */
export async function liveWorkers(em: EntityManager): Promise<WorkerProcess[]> {
  return em.find(WorkerProcess, { lastSeenAt: { $gt: new Date(Date.now() - WORKER_DEAD_AFTER_S * 1000) } });
}
