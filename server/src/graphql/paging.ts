import { type ClassType, Field, Int, ObjectType } from 'type-graphql';
import { DomainError } from './errors.js';

/** The most items one page query returns. */
export const MAX_PAGE = 200;

/** What a page type says about itself in the schema. */
export interface PageDescriptions {
  /** The page type's own description. */
  page: string;
  /** `totalCount`'s description, if it has one. */
  totalCount?: string;
  /** `hasMore`'s description. */
  hasMore: string;
}

/** One page of a list, newest first: the shape every "older" paged query answers with. */
export interface Page<T> {
  nodes: T[];
  totalCount: number;
  hasMore: boolean;
}

/**
 * The object type of a page of `Item`s, named `name` (`BuildPage`, `UploadPage`). A factory rather
 * than a generic class because GraphQL has no generics: each list needs a type of its own.
 */
export function PageOf<T extends object>(name: string, Item: ClassType<T>, describe: PageDescriptions) {
  @ObjectType(name, { description: describe.page })
  class PageType implements Page<T> {
    @Field(() => [Item])
    nodes!: T[];

    @Field(() => Int, { description: describe.totalCount })
    totalCount!: number;

    @Field({ description: describe.hasMore })
    hasMore!: boolean;
  }
  return PageType;
}

/**
 * The page of `first` from `nodes`, which holds up to `first + 1` items: the one more says whether
 * older ones follow without a second count.
 */
export function toPage<T>(nodes: T[], first: number, totalCount: number): Page<T> {
  return { nodes: nodes.slice(0, first), totalCount, hasMore: nodes.length > first };
}

/** `first` of a page query, checked against `max`. */
export function firstArg(first: number, max = MAX_PAGE): number {
  if (!Number.isInteger(first) || first < 1 || first > max)
    throw new DomainError('BAD_USER_INPUT', `first must be between 1 and ${max}, not ${first}`);
  return first;
}

/** A numeric entity id given as a GraphQL `ID`; `what` names it in the message ("a build", "an upload"). */
export function idArg(what: string, value: string): number {
  if (!/^\d{1,9}$/.test(value)) throw new DomainError('BAD_USER_INPUT', `${what} id is a whole number, not "${value}"`);
  return Number(value);
}
