import {
  BigIntType,
  Entity,
  Enum,
  ManyToOne,
  OptionalProps,
  PrimaryKey,
  Property,
  Unique,
  type Rel,
} from '@mikro-orm/postgresql';
import { Field, Float, ID, ObjectType, registerEnumType } from 'type-graphql';
import { Source } from '../archive/source.entity.js';
import { Configurable } from '../lifecycle/lifecycle.js';

/** How a chroot is kept and entered (reference/debian-toolchain.md §1–2, §9). */
export enum ChrootBackend {
  /** A root-owned directory entered through schroot with an overlay per session (fastest; needs the sudo rules). */
  SCHROOT = 'SCHROOT',
  /** An mmdebstrap tarball unpacked per build by sbuild's unshare mode (rootless). */
  UNSHARE = 'UNSHARE',
}
registerEnumType(ChrootBackend, { name: 'ChrootBackend' });

/**
 * A generic build chroot for one (codename, architecture): debhelper and fakeroot pre-installed, apt lists
 * kept. Everything distribution-specific travels with each build. Keyed `<codename>-<arch>`.
 */
@ObjectType({ implements: Configurable, description: 'A build chroot for one codename and architecture' })
@Entity({ tableName: 'chroot' })
@Unique({ properties: ['source', 'architecture'] })
export class Chroot extends Configurable {
  [OptionalProps]?:
    | 'status'
    | 'checkState'
    | 'checkedAt'
    | 'problem'
    | 'backend'
    | 'sizeBytes'
    | 'refreshedAt'
    | 'phase'
    | 'key'
    | 'codename';

  @Field(() => ID)
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Field(() => Source)
  @ManyToOne(() => Source)
  source!: Rel<Source>;

  @Field({ description: 'Debian architecture, e.g. amd64' })
  @Property({ type: 'text' })
  architecture!: string;

  @Field(() => ChrootBackend)
  @Enum({ items: () => ChrootBackend, type: 'text' })
  backend: ChrootBackend = ChrootBackend.SCHROOT;

  @Field(() => Float, { nullable: true, description: 'Disk use after the last prepare or check' })
  @Property({ type: new BigIntType('number'), nullable: true })
  sizeBytes: number | null = null;

  @Field(() => Date, { nullable: true, description: 'When the last create or update finished' })
  @Property({ type: 'timestamptz', nullable: true })
  refreshedAt: Date | null = null;

  @Field(() => String, { nullable: true, description: 'What runs now: creating, updating, removing; null when idle' })
  @Property({ type: 'text', nullable: true })
  phase: string | null = null;

  @Field()
  get codename(): string {
    return this.source.codename;
  }

  /** `bookworm-amd64`: how people, the CLI and log URLs name a chroot. */
  @Field()
  get key(): string {
    return `${this.source.codename}-${this.architecture}`;
  }
}
