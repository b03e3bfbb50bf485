import { Arg, Authorized, Ctx, Field, Mutation, ObjectType, Query, Resolver, registerEnumType } from 'type-graphql';
import { Role } from '../auth/role.js';
import { type Context, currentUser } from '../graphql/context.js';
import { DaemonConfig } from '../instance/daemon-config.entity.js';
import { Upload } from '../upload/upload.entity.js';
import { keyringPackageName } from './keyring-package.js';
import { KeyringPackageState } from './keyring-state.entity.js';
import { KeyringTargetState } from './keyring.service.js';

registerEnumType(KeyringTargetState, {
  name: 'KeyringTargetState',
  description: 'What building the keyring package did in one distribution',
});

@ObjectType({ description: 'The keyring package in one distribution' })
class KeyringTarget {
  @Field({ description: '<codename>-<repo>-<suite>' })
  distribution!: string;

  @Field({ description: 'The version it has (or would have) there; empty when refused before' })
  version!: string;

  @Field(() => KeyringTargetState)
  state!: KeyringTargetState;

  @Field(() => Upload, { nullable: true, description: 'The new upload, when UPLOADED' })
  upload!: Upload | null;

  @Field(() => String, { nullable: true, description: 'Why, when PENDING or REFUSED' })
  reason!: string | null;
}

@ObjectType({ description: 'The <identity>-archive-keyring package: the archive key and apt sources for clients' })
class KeyringPackage {
  @Field()
  name!: string;

  @Field(() => [String], { description: 'The distributions whose suite builds it' })
  distributions!: string[];

  @Field(() => String, {
    nullable: true,
    description: 'The time stamp its versions start with (UTC YYYYmmddHHMMSS); null until it was first built',
  })
  versionStamp!: string | null;

  @Field(() => Date, { nullable: true, description: 'When its content last changed' })
  changedAt!: Date | null;
}

@Resolver()
export class KeyringResolver {
  @Query(() => KeyringPackage, { nullable: true, description: 'Null until the daemon is configured' })
  async keyringPackage(@Ctx() ctx: Context): Promise<KeyringPackage | null> {
    const daemon = await ctx.em.findOne(DaemonConfig, 1);
    if (!daemon) return null;
    const state = await ctx.em.findOne(KeyringPackageState, 1);
    return {
      name: keyringPackageName(daemon.identity),
      distributions: await ctx.services.keyring.targets(ctx.em),
      versionStamp: state?.versionStamp ?? null,
      changedAt: state?.changedAt ?? null,
    };
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => [KeyringTarget], {
    description:
      'Builds <identity>-archive-keyring (the archive key, deb822 .sources per distribution with Signed-By, a ' +
      'dput-ng profile) into every distribution whose suite builds it, or those named: signed by the instance ' +
      'key, then checked, built and installed like any upload. Where its version is there already, nothing is ' +
      'uploaded (UP_TO_DATE); once installed, it is migrated along the whole chain of its suite (unstable -> ' +
      'testing -> stable) unless withoutMigration. From now on it is rebuilt (and migrated along) by itself ' +
      'when the key or the repositories change',
  })
  buildKeyringPackages(
    @Ctx() ctx: Context,
    @Arg('distributions', () => [String], { nullable: true }) distributions?: string[] | null,
    @Arg('withoutMigration', {
      defaultValue: false,
      description: 'Leave it in the distributions it is uploaded to (mini-buildd: --without-migration)',
    })
    withoutMigration?: boolean,
  ): Promise<KeyringTarget[]> {
    return ctx.services.keyring.build(currentUser(ctx).username, distributions, { withoutMigration });
  }
}
