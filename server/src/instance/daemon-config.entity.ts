import { Entity, Enum, OptionalProps, PrimaryKey, Property } from '@mikro-orm/postgresql';
import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Configurable } from '../lifecycle/lifecycle.js';

export enum KeyAlgorithm {
  ED25519 = 'ed25519',
  RSA4096 = 'rsa4096',
}
registerEnumType(KeyAlgorithm, { name: 'KeyAlgorithm' });

/**
 * The instance itself (mini-buildd's Daemon model, a singleton): identity, archive origin, build slots
 * and the OpenPGP key that signs the repositories. The key is made on prepare and kept until remove.
 */
@ObjectType({ implements: Configurable, description: 'This instance: identity, archive origin, build slots, key' })
@Entity({ tableName: 'daemon_config' })
export class DaemonConfig extends Configurable {
  [OptionalProps]?:
    | 'status'
    | 'checkState'
    | 'checkedAt'
    | 'problem'
    | 'customArchiveOrigin'
    | 'maxParallelBuilds'
    | 'keyAlgorithm'
    | 'keyFingerprint'
    | 'archiveOrigin';

  /** Always 1: there is one instance configuration. */
  @PrimaryKey({ type: 'integer', autoincrement: false })
  id: number = 1;

  @Field()
  @Property({ type: 'text' })
  identity!: string;

  @Field()
  @Property({ type: 'text' })
  emailAddress!: string;

  @Field({ description: 'The Origin of the repositories’ Release files; empty: "debyard archive <identity>"' })
  @Property({ type: 'text' })
  customArchiveOrigin: string = '';

  @Field(() => Int)
  @Property({ type: 'integer' })
  maxParallelBuilds: number = 1;

  @Field(() => KeyAlgorithm)
  @Enum({ items: () => KeyAlgorithm, type: 'text' })
  keyAlgorithm: KeyAlgorithm = KeyAlgorithm.ED25519;

  @Field(() => String, { nullable: true, description: 'The instance key; made on prepare' })
  @Property({ type: 'text', nullable: true })
  keyFingerprint: string | null = null;

  @Field()
  get archiveOrigin(): string {
    return this.customArchiveOrigin || `debyard archive ${this.identity}`;
  }
}
