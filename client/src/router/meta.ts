import type { Role } from '../api/types';

declare module 'vue-router' {
  interface RouteMeta {
    /** Page name for the document title. */
    title?: string;
    /** Shown in the main navigation, in route order, with this label. */
    nav?: string;
    /** Only for signed-in users; others are sent to sign in first. */
    requiresAuth?: boolean;
    /** Only for users with at least this role (implies requiresAuth). */
    role?: Role;
  }
}

export {};
