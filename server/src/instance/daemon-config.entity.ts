import { Entity, Enum, OptionalProps, PrimaryKey, Property } from '@mikro-orm/postgresql';
import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { Configurable } from '../lifecycle/lifecycle.js';
import { redactSmtpUrl } from '../notify/smtp-url.js';

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
    | 'archiveOrigin'
    | 'smtpUrl'
    | 'mailFrom'
    | 'notifyAddresses'
    | 'smtpUrlShown'
    | 'sender'
    | 'hooksDir'
    | 'hookTimeout';

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

  /** The SMTP smarthost (with its password: never a GraphQL field as it is); empty: no mail. */
  @Property({ type: 'text', default: '' })
  smtpUrl: string = '';

  @Field(() => String, {
    name: 'smtpUrl',
    description: 'The SMTP smarthost, password shown as ***; empty: no notification mail',
  })
  get smtpUrlShown(): string {
    return redactSmtpUrl(this.smtpUrl);
  }

  @Field({ description: 'The From: of notifications; empty: the daemon’s e-mail address' })
  @Property({ type: 'text', default: '' })
  mailFrom: string = '';

  @Field(() => [String], { description: 'Who hears about every mailed event of this instance' })
  @Property({ type: 'json', default: '[]' })
  notifyAddresses: string[] = [];

  @Field({ description: 'Executables here run for every event, the event as JSON on stdin; empty: no hooks' })
  @Property({ type: 'text', default: '' })
  hooksDir: string = '';

  @Field(() => Int, { description: 'Seconds an event hook may run before it is killed with its process group' })
  @Property({ type: 'integer', default: 60 })
  hookTimeout: number = 60;

  get sender(): string {
    return this.mailFrom || this.emailAddress;
  }

  @Field()
  get archiveOrigin(): string {
    return this.customArchiveOrigin || `debyard archive ${this.identity}`;
  }
}
