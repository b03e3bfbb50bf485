/** Plain values shared by the daemon and the CLI; kept free of imports so the CLI starts fast. */
export const SESSION_COOKIE = 'debyard_session';
export const SESSION_TTL_MS = 14 * 24 * 3600 * 1000;
/** The administrator created on first start; its token is written to <data-dir>/admin.token. */
export const LOCAL_ADMIN = 'admin';
export const ADMIN_TOKEN_FILE = 'admin.token';
