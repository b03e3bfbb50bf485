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
    path: '/explorer',
    name: 'explorer',
    component: () => import('../pages/ExplorerPage.vue'),
    meta: { title: 'Explorer', nav: 'Explorer', requiresAuth: true },
  },
  { path: '/sign-in', name: 'sign-in', component: SignInPage, meta: { title: 'Sign in' } },
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
