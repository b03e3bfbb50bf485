import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { Role } from '../auth/role.js';
import { Build } from '../build/build.entity.js';
import { type Context, currentUser } from '../graphql/context.js';
import { firstArg, idArg, type Page, PageOf, toPage } from '../graphql/paging.js';
import { Upload, UploadState } from './upload.entity.js';

const UploadPage = PageOf('UploadPage', Upload, {
  page: 'A page of uploads, newest first',
  hasMore: 'Older uploads follow: ask again with before = the last id',
});

const uploadId = (value: string): number => idArg('an upload', value);

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
  ): Promise<Page<Upload>> {
    firstArg(first);
    const where: Record<string, unknown> = {};
    if (state) where.state = state;
    if (source) where.source = source;
    if (repository) where.repository = repository;
    const totalCount = await ctx.em.count(Upload, where);
    if (before != null) where.id = { $lt: uploadId(before) };
    const nodes = await ctx.em.find(Upload, where, { orderBy: { id: 'desc' }, limit: first + 1 });
    return toPage(nodes, first, totalCount);
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
