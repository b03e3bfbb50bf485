import { ConfigKind, FieldError, FieldType, parseString, type KindHandler } from '../lifecycle/config-kind.js';
import { Archive } from './archive.entity.js';
import { pingArchive } from './release-check.js';
import { Source } from './source.entity.js';

/** mini-buildd's rule: an archive URL ends in exactly one slash. */
export function normaliseArchiveUrl(url: string): string {
  const s = parseString('url', url, {
    pattern: /^https?:\/\/[^\s]+$/,
    hint: 'an http:// or https:// URL, e.g. http://deb.debian.org/debian/',
  });
  // The URL names the archive everywhere, anonymously readable (config, sources.list): no secrets in it.
  if (/^https?:\/\/[^/]*@/.test(s))
    throw new FieldError(
      'url',
      `"${s.replace(/\/\/[^/]*@/, '//***@')}": an archive URL must not carry credentials; everybody can read it`,
    );
  return s.replace(/\/+$/, '') + '/';
}

export const archiveKind: KindHandler<Archive> = {
  kind: ConfigKind.ARCHIVE,
  entity: Archive,
  lifecycle: true,
  keyOf: (a) => a.url,
  describe: (a) => (a.pingMs == null ? a.url : `${a.url} (${Math.round(a.pingMs)} ms)`),
  list: (em) => em.find(Archive, {}, { orderBy: { url: 'asc' } }),
  find: (em, key) => em.findOne(Archive, { url: normaliseArchiveUrl(key) }),
  create: async (em, key) => em.create(Archive, { url: normaliseArchiveUrl(key) }, { persist: false }),
  fields: [
    { name: 'url', type: FieldType.STRING, readOnly: true, description: 'Base URL, ending in /', get: (a) => a.url },
    {
      name: 'pingMs',
      type: FieldType.INT,
      readOnly: true,
      description: 'Round trip of the last check in ms',
      get: (a) => a.pingMs,
    },
  ],
  dependants: (em, a) => em.find(Source, { archives: a }),
  check: async (a) => {
    a.pingMs = (await pingArchive(a.url)).ms;
  },
};
