import { Arg, Authorized, Ctx, Field, InputType, Mutation, ObjectType, Resolver, registerEnumType } from 'type-graphql';
import { Role } from '../auth/role.js';
import { ChrootBackend } from '../chroot/chroot.entity.js';
import { type Context, currentUser } from '../graphql/context.js';
import { ConfigKind } from '../lifecycle/config-kind.js';
import { FieldChangeInfo } from '../lifecycle/config.resolver.js';
import { SetupResult, SetupState, type SetupReport as Report } from './setup.service.js';

registerEnumType(SetupState, { name: 'SetupState', description: 'What setup finds for an object' });
registerEnumType(SetupResult, { name: 'SetupResult', description: 'What applying setup did to an object' });

@InputType({ description: 'A repository setup creates or updates' })
class SetupRepositoryInput {
  @Field({ description: 'e.g. test (accepts unsigned uploads) or debdev (Debian Developer layout)' })
  identity!: string;

  @Field(() => String, { nullable: true, description: 'Default, Default (no rollbacks) or Debian Developer' })
  layout?: string | null;

  @Field(() => [String], { nullable: true, description: 'Default: all codenames' })
  codenames?: string[] | null;
}

@InputType({ description: 'The choices setup builds a configuration from' })
class SetupInput {
  @Field(() => String, { nullable: true, description: 'Debian (default) or Ubuntu' })
  origin?: string | null;

  @Field(() => [String])
  codenames!: string[];

  @Field(() => [String], { nullable: true, description: 'Default: this machine’s architecture' })
  architectures?: string[] | null;

  @Field(() => String, { nullable: true, description: 'Replaces the origin’s default archive' })
  mirror?: string | null;

  @Field(() => String, { nullable: true, description: 'Replaces the security archive' })
  securityMirror?: string | null;

  @Field(() => String, { nullable: true })
  identity?: string | null;

  @Field(() => String, { nullable: true })
  emailAddress?: string | null;

  @Field(() => [SetupRepositoryInput], { nullable: true, description: 'Default: one repository "test"' })
  repositories?: SetupRepositoryInput[] | null;

  @Field(() => Boolean, {
    nullable: true,
    description: 'Also one build chroot per codename and architecture (takes about a minute each)',
  })
  chroots?: boolean | null;

  @Field(() => ChrootBackend, { nullable: true, description: 'How the chroots are kept; default SCHROOT' })
  chrootBackend?: ChrootBackend | null;
}

@ObjectType()
class SetupEntry {
  @Field(() => ConfigKind)
  kind!: ConfigKind;

  @Field()
  key!: string;

  @Field(() => SetupState)
  state!: SetupState;

  @Field(() => [FieldChangeInfo])
  changes!: FieldChangeInfo[];

  @Field(() => String, { nullable: true })
  note!: string | null;

  @Field(() => SetupResult, { nullable: true, description: 'Only when applied' })
  result!: SetupResult | null;

  @Field(() => String, { nullable: true })
  error!: string | null;
}

@ObjectType({ description: 'Per object: what setup found and, when applied, what it did' })
class SetupReport {
  @Field()
  applied!: boolean;

  @Field(() => [SetupEntry])
  entries!: SetupEntry[];
}

@Resolver()
export class SetupResolver {
  @Authorized(Role.ADMIN)
  @Mutation(() => SetupReport, {
    description:
      'Builds or updates a complete configuration. A dry run unless apply is true; applying is idempotent and prepares, checks and activates everything',
  })
  setup(
    @Ctx() ctx: Context,
    @Arg('input', () => SetupInput) input: SetupInput,
    @Arg('apply', { defaultValue: false }) apply: boolean,
  ): Promise<Report> {
    return ctx.services.setup.run(input, apply, currentUser(ctx).username);
  }
}
