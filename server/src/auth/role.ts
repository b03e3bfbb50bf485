import { registerEnumType } from 'type-graphql';

/** mini-buildd's login / staff / admin, plus uploader; anonymous is the absence of a user. */
export enum Role {
  UPLOADER = 'UPLOADER',
  STAFF = 'STAFF',
  ADMIN = 'ADMIN',
}
registerEnumType(Role, { name: 'Role', description: 'What a user may do: each role includes the ones before it' });

const RANK: Record<Role, number> = { [Role.UPLOADER]: 1, [Role.STAFF]: 2, [Role.ADMIN]: 3 };

/** True when `held` is at least as strong as `needed`. */
export function roleIncludes(held: Role, needed: Role): boolean {
  return RANK[held] >= RANK[needed];
}
