import fs from 'node:fs';

const pkg = JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** debyard's version, from the repository's package.json. */
export const VERSION: string = pkg.version;
