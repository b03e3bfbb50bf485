import {
  Cascade,
  Collection,
  Entity,
  Enum,
  ManyToMany,
  ManyToOne,
  OneToMany,
  OptionalProps,
  PrimaryKey,
  Property,
  Unique,
  type Rel,
} from '@mikro-orm/postgresql';
import { Field, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { PrioritySource } from '../archive/priority-source.entity.js';
import { Source } from '../archive/source.entity.js';

/** mini-buildd's QA modes: DISABLED, IGNORE (run, never fail), ERRFAIL (fail on errors), WARNFAIL (also on warnings). */
export enum QaMode {
  DISABLED = 'DISABLED',
  IGNORE = 'IGNORE',
  ERRFAIL = 'ERRFAIL',
  WARNFAIL = 'WARNFAIL',
}
registerEnumType(QaMode, { name: 'QaMode' });

export enum BuildDepResolver {
  APT = 'APT',
  APTITUDE = 'APTITUDE',
}
registerEnumType(BuildDepResolver, { name: 'BuildDepResolver' });

@ObjectType({ description: 'An archive component, e.g. main' })
@Entity({ tableName: 'component' })
export class Component {
  @Field()
  @PrimaryKey({ type: 'text' })
  name!: string;
}

@ObjectType({ description: 'A Debian architecture, e.g. amd64' })
@Entity({ tableName: 'architecture' })
export class Architecture {
  @Field()
  @PrimaryKey({ type: 'text' })
  name!: string;
}

/** How a distribution builds on one architecture. */
@ObjectType({ description: 'An architecture of a distribution' })
@Entity({ tableName: 'architecture_option' })
@Unique({ properties: ['distribution', 'architecture'] })
export class ArchitectureOption {
  [OptionalProps]?: 'optional' | 'buildArchitectureAll';

  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @ManyToOne(() => Distribution, { deleteRule: 'cascade' })
  distribution!: Rel<Distribution>;

  @Field(() => String, { description: 'The architecture name' })
  @ManyToOne(() => Architecture)
  architecture!: Rel<Architecture>;

  @Field({ description: 'A failure on this architecture does not fail the package' })
  @Property({ type: 'boolean' })
  optional: boolean = false;

  @Field({ description: 'Arch-all packages are built here (exactly one non-optional architecture)' })
  @Property({ type: 'boolean' })
  buildArchitectureAll: boolean = false;
}

/**
 * What is built for one codename: the base source and extra sources, components, architectures and the
 * build and QA options. Repositories combine distributions with a layout into `<codename>-<repo>-<suite>`.
 */
@ObjectType({ description: 'How packages for one codename are built' })
@Entity({ tableName: 'distribution' })
export class Distribution {
  [OptionalProps]?:
    | 'buildDepResolver'
    | 'lintianMode'
    | 'lintianExtraOptions'
    | 'autopkgtestMode'
    | 'debBuildOptions'
    | 'debBuildProfiles'
    | 'addDepends'
    | 'internalAptPriority'
    | 'codename';

  @Field(() => ID)
  @PrimaryKey({ type: 'integer', autoincrement: true })
  id!: number;

  @Field(() => Source)
  @ManyToOne(() => Source)
  @Unique()
  baseSource!: Rel<Source>;

  @ManyToMany(() => PrioritySource)
  extraSources = new Collection<PrioritySource>(this);

  @ManyToMany(() => Component)
  components = new Collection<Component>(this);

  @OneToMany(() => ArchitectureOption, (o) => o.distribution, { cascade: [Cascade.ALL], orphanRemoval: true })
  architectureOptions = new Collection<ArchitectureOption>(this);

  @Field(() => BuildDepResolver)
  @Enum({ items: () => BuildDepResolver, type: 'text' })
  buildDepResolver: BuildDepResolver = BuildDepResolver.APT;

  @Field(() => QaMode)
  @Enum({ items: () => QaMode, type: 'text' })
  lintianMode: QaMode = QaMode.ERRFAIL;

  @Field()
  @Property({ type: 'text' })
  lintianExtraOptions: string = '--info';

  @Field(() => QaMode)
  @Enum({ items: () => QaMode, type: 'text' })
  autopkgtestMode: QaMode = QaMode.DISABLED;

  @Field({ description: 'DEB_BUILD_OPTIONS for every build' })
  @Property({ type: 'text' })
  debBuildOptions: string = '';

  @Field({ description: 'DEB_BUILD_PROFILES for every build' })
  @Property({ type: 'text' })
  debBuildProfiles: string = '';

  @Field({ description: 'Extra build dependencies, comma separated' })
  @Property({ type: 'text' })
  addDepends: string = '';

  @Field(() => Int, { description: 'APT priority of the repository’s own suites in builds (1: only when needed)' })
  @Property({ type: 'integer' })
  internalAptPriority: number = 1;

  /** A distribution is named after its base source's codename. */
  @Field()
  get codename(): string {
    return this.baseSource.codename;
  }
}
