import { Arg, Authorized, Ctx, Mutation, Query, Resolver } from 'type-graphql';
import { Role } from '../auth/role.js';
import { type Context, currentUser } from '../graphql/context.js';
import { Uploader } from './uploader.entity.js';

@Resolver()
export class UploaderResolver {
  @Authorized(Role.UPLOADER)
  @Query(() => [Uploader], { description: 'The uploader keys on your profile' })
  myKeys(@Ctx() ctx: Context): Promise<Uploader[]> {
    return ctx.services.uploaderKeys.mine(ctx.em, currentUser(ctx));
  }

  @Authorized(Role.STAFF)
  @Query(() => [Uploader], { description: 'Every uploader key, with its user, state and repositories' })
  uploaderKeys(@Ctx() ctx: Context): Promise<Uploader[]> {
    return ctx.services.uploaderKeys.all(ctx.em);
  }

  @Authorized(Role.UPLOADER)
  @Mutation(() => Uploader, {
    description:
      'Adds an armored OpenPGP public key to your profile, prepared and checked; usable once staff activate it. ' +
      'Refused: KEY_INVALID, KEY_EXPIRED, KEY_REVOKED, KEY_WEAK (RSA below 2048 bits, DSA …), ALREADY_EXISTS',
  })
  addKey(@Ctx() ctx: Context, @Arg('armored') armored: string): Promise<Uploader> {
    return ctx.services.uploaderKeys.add(currentUser(ctx), armored);
  }

  @Authorized(Role.UPLOADER)
  @Mutation(() => Boolean, {
    description: 'Removes a key from your profile (staff: anybody’s); its uploads stop at once',
  })
  async removeKey(@Ctx() ctx: Context, @Arg('fingerprint') fingerprint: string): Promise<boolean> {
    await ctx.services.uploaderKeys.remove(currentUser(ctx), fingerprint);
    return true;
  }

  @Authorized(Role.STAFF)
  @Mutation(() => Uploader, {
    description: 'Grants a key these repositories and activates it; its user must be active (else USER_STATE)',
  })
  activateKey(
    @Ctx() ctx: Context,
    @Arg('fingerprint') fingerprint: string,
    @Arg('repositories', () => [String]) repositories: string[],
  ): Promise<Uploader> {
    return ctx.services.uploaderKeys.activate(currentUser(ctx), fingerprint, repositories);
  }

  @Authorized(Role.STAFF)
  @Mutation(() => Uploader, { description: 'Deactivates a key: uploads signed by it are refused from now on' })
  deactivateKey(@Ctx() ctx: Context, @Arg('fingerprint') fingerprint: string): Promise<Uploader> {
    return ctx.services.uploaderKeys.deactivate(currentUser(ctx), fingerprint);
  }
}
