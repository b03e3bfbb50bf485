import { Enum, Property } from '@mikro-orm/postgresql';
import { Field, InterfaceType, registerEnumType } from 'type-graphql';

/** mini-buildd's status: what an object is doing in the running system. */
export enum ConfigStatus {
  REMOVED = 'REMOVED',
  PREPARED = 'PREPARED',
  ACTIVE = 'ACTIVE',
}
registerEnumType(ConfigStatus, { name: 'ConfigStatus', description: 'removed → prepared → active' });

/** mini-buildd's check state (its `last_checked` sentinels), explicit. */
export enum CheckState {
  UNCHECKED = 'UNCHECKED',
  /** Edited since the last prepare: prepare and check again. */
  CHANGED = 'CHANGED',
  FAILED = 'FAILED',
  /** Failed while active: it comes back by itself when a check passes again. */
  AUTO_REACTIVATE = 'AUTO_REACTIVATE',
  CHECKED = 'CHECKED',
}
registerEnumType(CheckState, { name: 'CheckState', description: 'The outcome of the last check' });

export class LifecycleError extends Error {
  override readonly name = 'LifecycleError';
  constructor(
    readonly code: 'NOT_PREPARED' | 'NOT_CHECKED' | 'DEPENDENCY_INACTIVE',
    message: string,
  ) {
    super(message);
  }
}

/**
 * The lifecycle every configuration object with a life of its own shares (Daemon, Archive, AptKey,
 * Source, Repository, Uploader; later Chroot and Remote). State changes only through these intent
 * methods; what prepare, check and remove do to the world is each kind's business.
 */
@InterfaceType({ description: 'A configuration object with mini-buildd’s lifecycle' })
export abstract class Configurable {
  @Field(() => ConfigStatus)
  @Enum({ items: () => ConfigStatus, type: 'text' })
  status: ConfigStatus = ConfigStatus.REMOVED;

  @Field(() => CheckState)
  @Enum({ items: () => CheckState, type: 'text' })
  checkState: CheckState = CheckState.UNCHECKED;

  @Field(() => Date, { nullable: true, description: 'When the last check passed' })
  @Property({ type: 'timestamptz', nullable: true })
  checkedAt: Date | null = null;

  @Field(() => String, { nullable: true, description: 'Why the last prepare or check failed' })
  @Property({ type: 'text', nullable: true })
  problem: string | null = null;

  /** Active, or failed while active and waiting to come back. */
  isActiveOrReactivating(): boolean {
    return this.status === ConfigStatus.ACTIVE || this.checkState === CheckState.AUTO_REACTIVATE;
  }

  markPrepared(): void {
    this.status = ConfigStatus.PREPARED;
    this.checkState = CheckState.UNCHECKED;
    this.problem = null;
  }

  markPrepareFailed(reason: string): void {
    this.problem = reason;
    if (this.status === ConfigStatus.ACTIVE) this.status = ConfigStatus.PREPARED;
    this.checkState = CheckState.FAILED;
  }

  /** Edited: an active object drops to prepared until it is prepared and checked again. */
  markChanged(): void {
    if (this.status === ConfigStatus.REMOVED) return;
    if (this.status === ConfigStatus.ACTIVE) this.status = ConfigStatus.PREPARED;
    this.checkState = CheckState.CHANGED;
  }

  /** Returns true when the object came back to active by itself. */
  markCheckPassed(now = new Date()): boolean {
    const reactivated = this.checkState === CheckState.AUTO_REACTIVATE;
    if (reactivated) this.status = ConfigStatus.ACTIVE;
    this.checkState = CheckState.CHECKED;
    this.checkedAt = now;
    this.problem = null;
    return reactivated;
  }

  markCheckFailed(reason: string): void {
    this.problem = reason;
    if (this.status === ConfigStatus.ACTIVE || this.checkState === CheckState.AUTO_REACTIVATE) {
      this.status = ConfigStatus.PREPARED;
      this.checkState = CheckState.AUTO_REACTIVATE;
    } else this.checkState = CheckState.FAILED;
  }

  /** Prepared and checked → active; prepared but unchecked or failed → activates itself after a passing check. */
  activate(): void {
    if (this.status === ConfigStatus.REMOVED) throw new LifecycleError('NOT_PREPARED', 'prepare and check it first');
    if (this.checkState === CheckState.CHECKED) this.status = ConfigStatus.ACTIVE;
    else if (this.checkState === CheckState.CHANGED)
      throw new LifecycleError('NOT_PREPARED', 'it was changed since it was prepared: prepare and check it again');
    else this.checkState = CheckState.AUTO_REACTIVATE;
  }

  deactivate(): void {
    if (this.status === ConfigStatus.ACTIVE) this.status = ConfigStatus.PREPARED;
    if (this.checkState === CheckState.AUTO_REACTIVATE) this.checkState = CheckState.FAILED;
  }

  markRemoved(): void {
    this.status = ConfigStatus.REMOVED;
    this.checkState = CheckState.UNCHECKED;
    this.checkedAt = null;
  }
}
