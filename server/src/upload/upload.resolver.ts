import {
  Arg,
  Authorized,
  Ctx,
  Field,
  FieldResolver,
  ID,
  Int,
  Mutation,
  ObjectType,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import { Role } from '../auth/role.js';
import { Build } from '../build/build.entity.js';
import { type Context, currentUser } from '../graphql/context.js';
import { DomainError } from '../graphql/errors.js';
import { Upload, UploadState } from './upload.entity.js';

const MAX_PAGE = 200;

@ObjectType({ description: 'A page of uploads, newest first' })
class UploadPage {
  @Field(() => [Upload])
  nodes!: Upload[];

  @Field(() => Int)
  totalCount!: number;

  @Field({ description: 'Older uploads follow: ask again with before = the last id' })
  hasMore!: boolean;
}

function uploadId(value: string): number {
  if (!/^\d{1,9}$/.test(value))
    throw new DomainError('BAD_USER_INPUT', `an upload id is a whole number, not "${value}"`);
  return Number(value);
}

@Resolver(() => Upload)
export class UploadResolver {
  @Query(() => UploadPage, { description: 'Uploads, newest first, filtered; page with before = the last id seen' })
  async uploads(
    @Ctx() ctx: Context,
    @Arg('state', () => UploadState, { nullable: true }) state?: UploadState,
    @Arg('source', () => String, { nullable: true }) source?: string,
    @Arg('repository', () => String, { nullable: true }) repository?: string,
    @Arg('first', () => Int, { defaultValue: 50 }) first = 50,
    @Arg('before', () => ID, { nullable: true }) before?: string,
  ): Promise<UploadPage> {
    if (first < 1 || first > MAX_PAGE)
      throw new DomainError('BAD_USER_INPUT', `first must be between 1 and ${MAX_PAGE}, not ${first}`);
    const where: Record<string, unknown> = {};
    if (state) where.state = state;
    if (source) where.source = source;
    if (repository) where.repository = repository;
    const totalCount = await ctx.em.count(Upload, where);
    if (before != null) where.id = { $lt: uploadId(before) };
    const nodes = await ctx.em.find(Upload, where, { orderBy: { id: 'desc' }, limit: first + 1 });
    return { nodes: nodes.slice(0, first), totalCount, hasMore: nodes.length > first };
  }

  @Query(() => Upload, { nullable: true })
  upload(@Ctx() ctx: Context, @Arg('id', () => ID) id: string): Promise<Upload | null> {
    return ctx.em.findOne(Upload, uploadId(id));
  }

  @FieldResolver(() => [Build], { description: 'Its builds, one per architecture' })
  builds(@Ctx() ctx: Context, @Root() upload: Upload): Promise<Build[]> {
    return ctx.em.find(Build, { upload: upload.id }, { orderBy: { architecture: 'asc' } });
  }

  @FieldResolver(() => String, { description: 'The .changes as uploaded' })
  changesUrl(@Root() upload: Upload): string {
    return `/uploads/${upload.id}/${upload.changesName}`;
  }

  @Authorized(Role.STAFF)
  @Mutation(() => Upload, { description: 'Runs a rejected or failed upload again, from its checks' })
  retryUpload(@Ctx() ctx: Context, @Arg('id', () => ID) id: string): Promise<Upload> {
    return ctx.services.uploads.retry(uploadId(id), currentUser(ctx).username);
  }
}
