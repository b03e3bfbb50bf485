import 'reflect-metadata';
import { buildSchema } from 'type-graphql';
import type { GraphQLSchema } from 'graphql';
import { AuthResolver } from '../auth/auth.resolver.js';
import { EventResolver } from '../events/event.resolver.js';
import { StatusResolver } from '../status/status.resolver.js';
import { authChecker } from './context.js';

export function buildDebyardSchema(): Promise<GraphQLSchema> {
  return buildSchema({
    resolvers: [StatusResolver, EventResolver, AuthResolver],
    authChecker,
    validate: false,
  });
}
