import type { EntityManager } from '@mikro-orm/postgresql';
import { parseSourceKey } from '../archive/source.kind.js';
import { Source } from '../archive/source.entity.js';
import {
  ConfigKind,
  FieldError,
  FieldType,
  enumParser,
  parseString,
  propertyFields,
  type KindHandler,
} from '../lifecycle/config-kind.js';
import { ConfigStatus } from '../lifecycle/lifecycle.js';
import { CHROOT_KEY, createChroot, removeChroot, updateChroot } from './chroot-ops.js';
import { Chroot, ChrootBackend } from './chroot.entity.js';

const ARCH = /^[a-z0-9][a-z0-9-]*$/;

/** The sources a chroot key could belong to: `bookworm-backports-amd64` prefers bookworm-backports. */
async function sourceForKey(em: EntityManager, key: string): Promise<{ source: Source; architecture: string }> {
  if (!CHROOT_KEY.test(key) || !key.includes('-'))
    throw new FieldError('key', `"${key}" is not CODENAME-ARCH, e.g. bookworm-amd64`);
  const sources = await em.find(Source, {}, { orderBy: { origin: 'asc' } });
  const fitting = sources.filter(
    (s) => key.startsWith(`${s.codename}-`) && ARCH.test(key.slice(s.codename.length + 1)),
  );
  const longest = Math.max(0, ...fitting.map((s) => s.codename.length));
  let candidates = fitting.filter((s) => s.codename.length === longest);
  if (!candidates.length)
    throw new FieldError(
      'key',
      `no source has the codename of "${key}"; sources: ${sources.map((s) => s.key).join(', ') || 'none'} (add it first, e.g. \`debyard setup --codename bookworm\`)`,
    );
  if (candidates.length > 1) {
    const active = candidates.filter((s) => s.status === ConfigStatus.ACTIVE);
    if (active.length === 1) candidates = active;
    else
      throw new FieldError(
        'source',
        `several origins share the codename ${candidates[0]!.codename} (${candidates.map((s) => s.key).join(', ')}): a chroot is per codename, so remove or deactivate all but one of them`,
      );
  }
  return { source: candidates[0]!, architecture: key.slice(longest + 1) };
}

/** The architecture must be one the source's last check found. */
function checkArchitecture(source: Source, architecture: string): void {
  if (!source.architectures.length)
    throw new FieldError(
      'source',
      `source ${source.key} has not been checked, so its architectures are unknown: check it first (\`debyard config source check ${source.key}\`)`,
    );
  if (!source.architectures.includes(architecture))
    throw new FieldError(
      'architecture',
      `source ${source.key} has no architecture "${architecture}"; it has ${source.architectures.join(', ')}`,
    );
}

export const chrootKind: KindHandler<Chroot> = {
  kind: ConfigKind.CHROOT,
  entity: Chroot,
  lifecycle: true,
  keyOf: (c) => c.key,
  describe: (c) =>
    `${c.key} (${c.backend.toLowerCase()}${c.sizeBytes ? `, ${Math.round(Number(c.sizeBytes) / 2 ** 20)} MiB` : ''}${c.phase ? `, ${c.phase}` : ''})`,
  list: async (em) => (await em.find(Chroot, {}, { populate: ['source'] })).sort((a, b) => a.key.localeCompare(b.key)),
  find: async (em, key) => (await em.find(Chroot, {}, { populate: ['source'] })).find((c) => c.key === key) ?? null,
  create: async (em, key) => {
    const { source, architecture } = await sourceForKey(em, key);
    if (source.codename.includes('/'))
      throw new FieldError('key', `${source.key} is not a plain codename: chroots are made of base sources`);
    checkArchitecture(source, architecture);
    return em.create(Chroot, { source, architecture }, { persist: false });
  },
  fields: [
    {
      name: 'source',
      type: FieldType.REFERENCE,
      refKind: ConfigKind.SOURCE,
      description: 'The source it is made from (its fastest archive and its keys); the codename is in the key',
      get: (c) => c.source.key,
      set: async (em, c, v) => {
        const key = parseString('source', v);
        const source = await em.findOne(Source, parseSourceKey(key));
        if (!source) throw new FieldError('source', `there is no source "${key}"`);
        if (source.codename !== c.source.codename)
          throw new FieldError(
            'source',
            `${key} is not codename ${c.source.codename}: the codename comes from the key ${c.key}; create chroot ${source.codename}-${c.architecture} instead`,
          );
        checkArchitecture(source, c.architecture);
        c.source = source;
      },
    },
    {
      name: 'architecture',
      type: FieldType.STRING,
      readOnly: true,
      description: 'From the key; one of the source’s architectures',
      get: (c) => c.architecture,
    },
    propertyFields<Chroot>()(
      'backend',
      FieldType.ENUM,
      'SCHROOT: a directory entered through schroot with an overlay per build (fast, needs the sudo helper); UNSHARE: a tarball for sbuild’s unshare mode (rootless)',
      enumParser(Object.values(ChrootBackend)),
      { options: Object.values(ChrootBackend) },
    ),
    {
      name: 'sizeBytes',
      type: FieldType.INT,
      readOnly: true,
      description: 'Disk use after the last prepare or check',
      get: (c) => (c.sizeBytes === null ? null : Number(c.sizeBytes)),
    },
    {
      name: 'refreshedAt',
      type: FieldType.STRING,
      readOnly: true,
      description: 'When it was last created or updated',
      get: (c) => c.refreshedAt?.toISOString() ?? null,
    },
    {
      name: 'phase',
      type: FieldType.STRING,
      readOnly: true,
      description: 'What runs now (creating, updating, removing); see its log',
      get: (c) => c.phase,
    },
  ],
  dependencies: async (_em, c) => [c.source],
  prepare: async (c, ctx) => {
    checkArchitecture(c.source, c.architecture);
    await createChroot(ctx, c);
  },
  check: async (c, ctx) => {
    checkArchitecture(c.source, c.architecture);
    await updateChroot(ctx, c);
  },
  remove: async (c, ctx) => {
    await removeChroot(ctx, c);
  },
};
