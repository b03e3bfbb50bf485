import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import './meta';
import DashboardPage from '../pages/DashboardPage.vue';
import SignInPage from '../pages/SignInPage.vue';
import { useSession } from '../composables/useSession';

// A route with `meta.nav` appears in the header navigation, in this order: adding a page to the
// console is adding its line here.
export const routes: RouteRecordRaw[] = [
  { path: '/', name: 'dashboard', component: DashboardPage, meta: { title: 'Dashboard', nav: 'Dashboard' } },
  {
    path: '/events',
    name: 'events',
    component: () => import('../pages/EventsPage.vue'),
    meta: { title: 'Events', nav: 'Events' },
  },
  {
    path: '/packages',
    name: 'packages',
    component: () => import('../pages/PackagesPage.vue'),
    meta: { title: 'Packages', nav: 'Packages' },
  },
  {
    path: '/packages/:source',
    name: 'package',
    component: () => import('../pages/PackagePage.vue'),
    meta: { title: 'Package' },
  },
  {
    path: '/uploads',
    name: 'uploads',
    component: () => import('../pages/UploadsPage.vue'),
    meta: { title: 'Uploads', nav: 'Uploads' },
  },
  {
    // One segment only: the daemon serves /uploads/<id>/<name>.changes itself.
    path: '/uploads/:id',
    name: 'upload',
    component: () => import('../pages/UploadPage.vue'),
    meta: { title: 'Upload' },
  },
  {
    path: '/builders',
    name: 'builders',
    component: () => import('../pages/BuildersPage.vue'),
    meta: { title: 'Builders', nav: 'Builders' },
  },
  {
    path: '/builds',
    name: 'builds',
    component: () => import('../pages/BuildsPage.vue'),
    meta: { title: 'Builds', nav: 'Builds' },
  },
  {
    path: '/builds/:id',
    name: 'build',
    component: () => import('../pages/BuildPage.vue'),
    meta: { title: 'Build' },
  },
  {
    path: '/repositories',
    name: 'repositories',
    component: () => import('../pages/RepositoriesPage.vue'),
    meta: { title: 'Repositories', nav: 'Repositories' },
  },
  {
    // Not under /repositories/: the daemon serves the APT repositories there.
    path: '/browse/:repository',
    name: 'repository-browser',
    component: () => import('../pages/RepositoryBrowserPage.vue'),
    meta: { title: 'Repository packages' },
  },
  {
    // Without a kind: the repositories, the kind people look for first.
    path: '/config/:kind?',
    name: 'config',
    component: () => import('../pages/ConfigKindPage.vue'),
    beforeEnter: (to) => (to.params.kind ? true : { name: 'config', params: { kind: 'repository' } }),
    meta: { title: 'Configuration', nav: 'Configuration' },
  },
  {
    path: '/config/:kind/:key',
    name: 'config-object',
    component: () => import('../pages/ConfigObjectPage.vue'),
    meta: { title: 'Configuration' },
  },
  {
    path: '/setup',
    name: 'setup',
    component: () => import('../pages/SetupPage.vue'),
    meta: { title: 'Setup', nav: 'Setup', role: 'ADMIN' },
  },
  {
    path: '/admin',
    name: 'admin',
    component: () => import('../pages/AdminPage.vue'),
    meta: { title: 'Administration', nav: 'Administration', role: 'STAFF' },
  },
  {
    path: '/explorer',
    name: 'explorer',
    component: () => import('../pages/ExplorerPage.vue'),
    meta: { title: 'Explorer', nav: 'Explorer', requiresAuth: true },
  },
  {
    path: '/profile',
    name: 'profile',
    component: () => import('../pages/ProfilePage.vue'),
    meta: { title: 'Profile', requiresAuth: true },
  },
  { path: '/sign-in', name: 'sign-in', component: SignInPage, meta: { title: 'Sign in' } },
  {
    path: '/sign-up',
    name: 'sign-up',
    component: () => import('../pages/SignUpPage.vue'),
    meta: { title: 'Sign up' },
  },
  {
    path: '/forbidden',
    name: 'forbidden',
    component: () => import('../pages/ForbiddenPage.vue'),
    meta: { title: 'Forbidden' },
  },
  {
    path: '/:pathMatch(.*)*',
    name: 'not-found',
    component: () => import('../pages/NotFoundPage.vue'),
    meta: { title: 'Not found' },
  },
];

export const router = createRouter({
  history: createWebHistory(import.meta.env.BASE_URL),
  routes,
  scrollBehavior: (_to, _from, saved) => saved ?? { top: 0 },
});

router.beforeEach(async (to) => {
  if (!to.meta.requiresAuth && !to.meta.role) return true;
  const session = useSession();
  await session.ensureLoaded();
  if (!session.signedIn.value) return { name: 'sign-in', query: { redirect: to.fullPath } };
  if (to.meta.role && !session.hasRole(to.meta.role)) return { name: 'forbidden', query: { from: to.fullPath } };
  return true;
});

// A daemon upgrade replaces the hashed route chunks an open tab knows, and the navigation to such a
// page fails with nothing on screen: load the page afresh instead, once per target, so a chunk that
// is really missing does not reload the page forever.
const RELOADED_FOR = 'debyard.reloadedFor';
router.onError((error: unknown, to) => {
  const message = error instanceof Error ? error.message : String(error);
  if (!/dynamically imported module|Importing a module script failed|Unable to preload/i.test(message)) return;
  if (sessionStorage.getItem(RELOADED_FOR) === to.fullPath) return;
  sessionStorage.setItem(RELOADED_FOR, to.fullPath);
  window.location.assign(to.fullPath);
});
router.afterEach((_to, _from, failure) => {
  if (!failure) sessionStorage.removeItem(RELOADED_FOR);
});
