import { Arg, Authorized, Ctx, Field, Mutation, ObjectType, Query, Resolver, registerEnumType } from 'type-graphql';
import { GraphQLJSON, GraphQLJSONObject } from 'graphql-scalars';
import { Role, roleIncludes } from '../auth/role.js';
import { type Context, currentUser } from '../graphql/context.js';
import { DomainError } from '../graphql/errors.js';
import { ConfigKind, FieldType, type KindHandler } from './config-kind.js';
import { CheckState, ConfigStatus, Configurable } from './lifecycle.js';
import { LifecycleAction } from './lifecycle.service.js';

registerEnumType(LifecycleAction, {
  name: 'LifecycleAction',
  description: 'prepare, check, activate, deactivate, remove, or PCA (prepare + check + activate)',
});

@ObjectType({ description: 'One field of a configuration object, with what a form needs to edit it' })
export class ConfigField {
  @Field()
  name!: string;

  @Field(() => FieldType)
  type!: FieldType;

  @Field()
  description!: string;

  @Field(() => [String], { nullable: true, description: 'Allowed values of an ENUM' })
  options?: string[];

  @Field(() => ConfigKind, { nullable: true, description: 'What a REFERENCE points to' })
  refKind?: ConfigKind;

  @Field()
  readOnly!: boolean;

  @Field(() => GraphQLJSON, { nullable: true })
  value?: unknown;
}

@ObjectType({ description: 'A kind of configuration object and its fields' })
export class ConfigKindInfo {
  @Field(() => ConfigKind)
  kind!: ConfigKind;

  @Field({ description: 'Whether it has the prepare/check/activate lifecycle' })
  lifecycle!: boolean;

  @Field(() => [ConfigField])
  fields!: ConfigField[];
}

@ObjectType({ description: 'A configuration object: its state and all its fields' })
export class ConfigObject {
  @Field(() => ConfigKind)
  kind!: ConfigKind;

  @Field({ description: 'How it is named: an archive URL, Debian:bookworm, a repository identity …' })
  key!: string;

  @Field()
  description!: string;

  @Field()
  lifecycle!: boolean;

  @Field(() => ConfigStatus, { nullable: true })
  status?: ConfigStatus;

  @Field(() => CheckState, { nullable: true })
  checkState?: CheckState;

  @Field(() => Date, { nullable: true })
  checkedAt?: Date | null;

  @Field(() => String, { nullable: true })
  problem?: string | null;

  @Field(() => [ConfigField])
  fields!: ConfigField[];
}

@ObjectType()
export class FieldChangeInfo {
  @Field()
  field!: string;

  @Field(() => GraphQLJSON, { nullable: true })
  from?: unknown;

  @Field(() => GraphQLJSON, { nullable: true })
  to?: unknown;
}

@ObjectType({ description: 'The object after an edit and what the edit changed' })
export class ConfigSetResult {
  @Field(() => ConfigObject)
  object!: ConfigObject;

  @Field(() => [FieldChangeInfo])
  changes!: FieldChangeInfo[];

  @Field()
  created!: boolean;
}

export function fieldInfos(h: KindHandler<object>, o?: object): ConfigField[] {
  return h.fields.map((f) => ({
    name: f.name,
    type: f.type,
    description: f.description,
    options: f.options ? [...f.options] : undefined,
    refKind: f.refKind,
    readOnly: Boolean(f.readOnly || !f.set),
    value: o ? f.get(o) : undefined,
  }));
}

export function toConfigObject(h: KindHandler<object>, o: object): ConfigObject {
  const lc = o instanceof Configurable && h.lifecycle ? o : null;
  return {
    kind: h.kind,
    key: h.keyOf(o),
    description: h.describe(o),
    lifecycle: h.lifecycle,
    status: lc?.status,
    checkState: lc?.checkState,
    checkedAt: lc?.checkedAt,
    problem: lc?.problem,
    fields: fieldInfos(h, o),
  };
}

/** The kind's handler, when the caller may read its objects (`readRole`). */
function readable(ctx: Context, kind: ConfigKind): KindHandler<object> {
  const h = ctx.services.config.lifecycle.handler(kind) as KindHandler<object>;
  const user = ctx.principal?.user;
  if (h.readRole && !(user && roleIncludes(user.role, h.readRole)))
    throw new DomainError(
      user ? 'FORBIDDEN' : 'UNAUTHENTICATED',
      `reading ${kind} objects needs the ${h.readRole} role${user ? `; ${user.username} is ${user.role}` : ' and you are not signed in'}`,
      { requiredRole: h.readRole },
    );
  return h;
}

@Resolver()
export class ConfigResolver {
  @Query(() => [ConfigKindInfo], { description: 'Every kind of configuration object and its fields' })
  configKinds(@Ctx() ctx: Context): ConfigKindInfo[] {
    return Object.values(ConfigKind).map((kind) => {
      const h = ctx.services.config.lifecycle.handler(kind) as KindHandler<object>;
      return { kind, lifecycle: h.lifecycle, fields: fieldInfos(h) };
    });
  }

  @Query(() => [ConfigObject])
  async configObjects(@Ctx() ctx: Context, @Arg('kind', () => ConfigKind) kind: ConfigKind): Promise<ConfigObject[]> {
    const h = readable(ctx, kind);
    return (await ctx.services.config.list(ctx.em, kind)).map((o) => toConfigObject(h, o));
  }

  @Query(() => ConfigObject)
  async configObject(
    @Ctx() ctx: Context,
    @Arg('kind', () => ConfigKind) kind: ConfigKind,
    @Arg('key') key: string,
  ): Promise<ConfigObject> {
    const h = readable(ctx, kind);
    return toConfigObject(h, await ctx.services.config.get(ctx.em, kind, key));
  }

  @Authorized(Role.ADMIN)
  @Mutation(() => ConfigSetResult, {
    description: 'Creates (with create: true) or edits an object; invalid values are refused with the field named',
  })
  async configSet(
    @Ctx() ctx: Context,
    @Arg('kind', () => ConfigKind) kind: ConfigKind,
    @Arg('key') key: string,
    @Arg('values', () => GraphQLJSONObject) values: Record<string, unknown>,
    @Arg('create', { defaultValue: false }) create: boolean,
  ): Promise<ConfigSetResult> {
    const { config } = ctx.services;
    const result = await config.set(kind, key, values, { create, by: currentUser(ctx).username });
    const h = config.lifecycle.handler(kind) as KindHandler<object>;
    return { ...result, object: toConfigObject(h, await config.get(ctx.em, kind, h.keyOf(result.object))) };
  }

  @Authorized(Role.STAFF)
  @Mutation(() => ConfigObject, { description: 'Runs a lifecycle action; dependencies are handled first' })
  async configAction(
    @Ctx() ctx: Context,
    @Arg('kind', () => ConfigKind) kind: ConfigKind,
    @Arg('key') key: string,
    @Arg('action', () => LifecycleAction) action: LifecycleAction,
  ): Promise<ConfigObject> {
    const { config } = ctx.services;
    await config.lifecycle.run(kind, key, action, currentUser(ctx).username);
    const h = config.lifecycle.handler(kind) as KindHandler<object>;
    return toConfigObject(h, await config.get(ctx.em, kind, key));
  }
}
