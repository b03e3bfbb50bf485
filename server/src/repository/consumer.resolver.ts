import { Arg, Ctx, Field, ObjectType, Query, Resolver, registerEnumType } from 'type-graphql';
import { type Context } from '../graphql/context.js';
import { DomainError } from '../graphql/errors.js';
import { DaemonConfig } from '../instance/daemon-config.entity.js';
import { dputConfig, keyringPath, sourcesList, type SourcesFormat } from './consumer.js';

enum SourcesListFormat {
  ONE_LINE = 'ONE_LINE',
  DEB822 = 'DEB822',
}
registerEnumType(SourcesListFormat, {
  name: 'SourcesListFormat',
  description: 'one-line `deb` entries or deb822 .sources',
});

@ObjectType({ description: 'The key that signs this instance’s repositories' })
class ArchiveKey {
  @Field()
  fingerprint!: string;

  @Field({ description: 'ASCII-armored public key' })
  armored!: string;

  @Field(() => [String])
  userIds!: string[];

  @Field({ description: 'Download as a binary keyring for Signed-By' })
  binaryUrl!: string;

  @Field({ description: 'Download armored' })
  armoredUrl!: string;

  @Field({ description: 'Where the apt lines expect it' })
  keyringPath!: string;
}

/** What apt and dput users need: sources lines, the key, a dput.cf section. All public, as in mini-buildd. */
@Resolver()
export class ConsumerResolver {
  @Query(() => String, { description: 'apt sources for the prepared repositories' })
  sourcesList(
    @Ctx() ctx: Context,
    @Arg('format', () => SourcesListFormat, { defaultValue: SourcesListFormat.ONE_LINE }) format: SourcesListFormat,
    @Arg('codenames', () => [String], { nullable: true }) codenames?: string[],
    @Arg('repositories', () => [String], { nullable: true }) repositories?: string[],
    @Arg('suites', () => [String], { nullable: true }) suites?: string[],
    @Arg('rollbacks', { defaultValue: false }) rollbacks?: boolean,
    @Arg('withSources', { defaultValue: false, description: 'Add deb-src' }) withSources?: boolean,
  ): Promise<string> {
    return sourcesList(ctx.em, {
      baseUrl: ctx.services.status().httpUrl,
      format: format as SourcesFormat,
      codenames,
      repositories,
      suites,
      rollbacks,
      withSources,
    });
  }

  @Query(() => ArchiveKey, { nullable: true, description: 'Null until the daemon is prepared' })
  async archiveKey(@Ctx() ctx: Context): Promise<ArchiveKey | null> {
    const info = await ctx.services.keys.load();
    if (!info) return null;
    const daemon = await ctx.em.findOne(DaemonConfig, 1);
    const base = ctx.services.status().httpUrl;
    return {
      fingerprint: info.fingerprint,
      armored: await ctx.services.keys.armoredPublicKey(),
      userIds: info.userIds,
      binaryUrl: `${base}/archive-keyring.gpg`,
      armoredUrl: `${base}/archive-keyring.asc`,
      keyringPath: keyringPath(daemon?.identity ?? ctx.services.status().identity),
    };
  }

  @Query(() => String, { description: 'A dput.cf section for uploading here' })
  async dputConfig(@Ctx() ctx: Context): Promise<string> {
    const status = ctx.services.status();
    if (!status.ftpUrl) throw new DomainError('NOT_FOUND', 'FTP incoming is not configured');
    const daemon = await ctx.em.findOne(DaemonConfig, 1);
    return dputConfig(daemon?.identity ?? status.identity, status.ftpUrl, status.httpUrl || undefined);
  }
}
