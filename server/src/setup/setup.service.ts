import os from 'node:os';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import { execa } from 'execa';
import { checkSource, type SourceCheck } from '../archive/release-check.js';
import { ChrootBackend } from '../chroot/chroot.entity.js';
import { DEBIAN_SETUP, findCodenameSetup, type ExtraSourceSetup, type OriginSetup } from '../archive/setup-data.js';
import { sortComponents } from '../distribution/distribution.kind.js';
import { EventType } from '../events/event.entity.js';
import type { EventService } from '../events/event.service.js';
import { DomainError } from '../graphql/errors.js';
import { ConfigKind } from '../lifecycle/config-kind.js';
import { type ConfigService, type FieldChange, type FieldValues } from '../lifecycle/config.service.js';
import { CheckState, ConfigStatus, Configurable } from '../lifecycle/lifecycle.js';
import { LifecycleAction, label } from '../lifecycle/lifecycle.service.js';
import { loadKeyring } from '../pgp/verify.js';
import { LAYOUT_PRESETS, layoutValues } from './layouts.js';

export interface SetupRepositoryInput {
  identity: string;
  layout?: string | null;
  codenames?: string[] | null;
}

/** The few choices setup builds a whole configuration from. */
export interface SetupInput {
  origin?: string | null;
  codenames: string[];
  architectures?: string[] | null;
  mirror?: string | null;
  securityMirror?: string | null;
  identity?: string | null;
  emailAddress?: string | null;
  repositories?: SetupRepositoryInput[] | null;
  /** One build chroot per codename and architecture, prepared with the rest. */
  chroots?: boolean | null;
  /** Default SCHROOT. */
  chrootBackend?: ChrootBackend | null;
}

export enum SetupState {
  /** Setup would create it. */
  MISSING = 'MISSING',
  UNCHANGED = 'UNCHANGED',
  /** It exists and setup would change the fields listed. */
  CHANGED = 'CHANGED',
  /** It exists with the right values but is not active (with the reason). */
  FAILING = 'FAILING',
  /** Setup leaves it out, e.g. an extra source the mirror does not have. */
  SKIPPED = 'SKIPPED',
}

export enum SetupResult {
  CREATED = 'CREATED',
  UPDATED = 'UPDATED',
  ACTIVATED = 'ACTIVATED',
  UNCHANGED = 'UNCHANGED',
  FAILED = 'FAILED',
  SKIPPED = 'SKIPPED',
}

export interface SetupEntry {
  kind: ConfigKind;
  key: string;
  state: SetupState;
  changes: FieldChange[];
  note: string | null;
  result: SetupResult | null;
  error: string | null;
}

export interface SetupReport {
  applied: boolean;
  entries: SetupEntry[];
}

interface Desired {
  kind: ConfigKind;
  key: string;
  values: FieldValues;
  skip?: string;
}

const ARCH = /^[a-z0-9][a-z0-9-]*$/;
const DPKG_ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  ia32: 'i386',
  arm: 'armhf',
  ppc64: 'ppc64el',
  s390x: 's390x',
};

/**
 * mini-buildd's `setup`: from a few choices, the complete configuration (daemon and key, archives, keys,
 * sources, layouts, distributions, repositories). A dry run reports per object what would happen; apply
 * does it and prepares, checks and activates everything. Everything that can be wrong with the input
 * (unknown codename, unreachable mirror, a Release that does not verify) is found before anything is
 * written, so a bad setup leaves the configuration as it was.
 */
export class SetupService {
  constructor(
    private readonly orm: MikroORM,
    private readonly events: EventService,
    private readonly config: ConfigService,
    private readonly defaults: { identity: string },
  ) {}

  run(input: SetupInput, apply: boolean, by: string | null): Promise<SetupReport> {
    return this.config.lifecycle.serialise(async () => {
      const em = this.orm.em.fork();
      const desired = await this.plan(em, input);
      const entries: SetupEntry[] = [];
      for (const d of desired) entries.push(await this.inspect(em, d));
      if (!apply) return { applied: false, entries };
      for (const [i, d] of desired.entries()) await this.applyOne(em, d, entries[i]!, by);
      const failed = entries.filter((e) => e.result === SetupResult.FAILED);
      await this.events.record(
        em,
        EventType.SETUP_APPLIED,
        failed.length
          ? `setup applied with ${failed.length} failure(s): ${failed.map((e) => `${label(e.kind)} ${e.key}`).join(', ')}`
          : `setup applied: ${entries.filter((e) => e.result !== SetupResult.UNCHANGED && e.result !== SetupResult.SKIPPED).length} object(s) changed`,
        { by, input: { ...input }, failed: failed.map((e) => ({ kind: e.kind, key: e.key, error: e.error })) },
      );
      return { applied: true, entries };
    });
  }

  private async plan(em: EntityManager, input: SetupInput): Promise<Desired[]> {
    const origin = input.origin ?? 'Debian';
    const setup = (DEBIAN_SETUP as Record<string, OriginSetup | undefined>)[origin];
    if (!setup) throw invalid(`unknown origin "${origin}": setup knows ${Object.keys(DEBIAN_SETUP).join(', ')}`);
    if (!input.codenames.length) throw invalid('give at least one codename, e.g. --codename bookworm');
    const codenames = [...new Set(input.codenames)];
    for (const c of codenames)
      if (!findCodenameSetup(origin, c))
        throw invalid(
          `unknown codename "${c}" for ${origin}: setup knows ${setup.codenames.map((x) => x.codename).join(', ')}`,
        );
    const architectures = [...new Set(input.architectures?.length ? input.architectures : [await hostArchitecture()])];
    for (const a of architectures) if (!ARCH.test(a)) throw invalid(`"${a}" is not an architecture name, e.g. amd64`);
    const mirror = input.mirror ? archiveUrl('mirror', input.mirror) : null;
    const securityMirror = input.securityMirror ? archiveUrl('securityMirror', input.securityMirror) : null;
    const swap = (url: string) =>
      mirror && url === setup.archives[0] ? mirror : securityMirror && /security/.test(url) ? securityMirror : url;

    const existingDaemon = await this.config.lifecycle.handler(ConfigKind.DAEMON).find(em, 'daemon');
    const identity =
      input.identity ?? (existingDaemon as { identity?: string } | null)?.identity ?? this.defaults.identity;
    if (!/^[a-z0-9][a-z0-9.+-]{0,62}$/.test(identity))
      throw invalid(
        `"${identity}" is not a valid identity: lower-case letters, digits and .+- (it becomes <identity>-archive-keyring)`,
      );
    const emailAddress =
      input.emailAddress ??
      (existingDaemon as { emailAddress?: string } | null)?.emailAddress ??
      `debyard@${os.hostname()}`;

    const repositories = input.repositories?.length ? input.repositories : [{ identity: 'test' }];
    for (const r of repositories) {
      if (!/^[a-z0-9]+$/.test(r.identity))
        throw invalid(`"${r.identity}" is not a valid repository identity: lower-case letters and digits, e.g. test`);
      const layout = r.layout ?? defaultLayout(r.identity);
      if (
        !LAYOUT_PRESETS.some((p) => p.name === layout) &&
        !(await this.config.lifecycle.handler(ConfigKind.LAYOUT).find(em, layout))
      )
        throw invalid(`unknown layout "${layout}": use ${LAYOUT_PRESETS.map((p) => `"${p.name}"`).join(', ')}`);
      for (const c of r.codenames ?? [])
        if (!codenames.includes(c))
          throw invalid(`repository ${r.identity} wants ${c}, which is not among the codenames`);
    }

    // The keys that verify the origin's Release files.
    const keyringFiles = [
      setup.keyring,
      ...new Set(codenames.flatMap((c) => findCodenameSetup(origin, c)!.extraKeyrings ?? [])),
    ];
    const keys = (
      await Promise.all(
        keyringFiles.map((f) =>
          loadKeyring(f).catch((err: Error) => {
            throw invalid(
              `cannot read the ${origin} archive keyring ${f}: ${err.message} (install debian-archive-keyring)`,
            );
          }),
        ),
      )
    ).flat();
    const fingerprints = keys.map((k) => k.getFingerprint().toUpperCase()).sort();

    // Probe every source now: a base source that fails stops setup, an extra one is left out.
    const probe = (
      archives: string[],
      s: {
        codename: string;
        origin: string;
        extraIdentifiers?: Record<string, string>;
        checkValidUntil?: boolean;
        removeFromComponent?: string;
      },
    ) =>
      Promise.any(
        archives.map((a) =>
          checkSource({
            archiveUrl: a,
            codename: s.codename,
            origin: s.origin,
            extraIdentifiers: s.extraIdentifiers,
            keys,
            checkValidUntil: s.checkValidUntil ?? true,
            removeFromComponent: s.removeFromComponent,
          }),
        ),
      ).catch((err: AggregateError) => {
        throw err.errors?.[0] ?? err;
      });
    const base = new Map<string, SourceCheck>();
    const extras = new Map<string, { setup: ExtraSourceSetup; archives: string[]; skip?: string }>();
    await Promise.all(
      codenames.map(async (c) => {
        const cs = findCodenameSetup(origin, c)!;
        const archives = cs.archives.map(swap);
        try {
          base.set(c, await probe(archives, { codename: c, origin, checkValidUntil: cs.checkValidUntil }));
        } catch (err) {
          throw invalid(`${origin} ${c} cannot be used from ${archives.join(', ')}: ${(err as Error).message}`, err);
        }
        await Promise.all(
          cs.extraSources.map(async (x) => {
            const xa = x.archives.map(swap);
            const skip = await probe(xa, x).then(
              () => undefined,
              (err: Error) => `left out: ${err.message}`,
            );
            extras.set(`${x.origin}:${x.codename}`, { setup: x, archives: xa, skip });
          }),
        );
      }),
    );
    for (const c of codenames) {
      const missing = architectures.filter((a) => !base.get(c)!.architectures.includes(a));
      if (missing.length)
        throw invalid(
          `${origin} ${c} has no architecture ${missing.join(', ')} (it has ${base.get(c)!.architectures.join(' ')})`,
        );
    }

    const desired: Desired[] = [{ kind: ConfigKind.DAEMON, key: 'daemon', values: { identity, emailAddress } }];
    for (const k of keys)
      desired.push({ kind: ConfigKind.APT_KEY, key: k.getFingerprint().toUpperCase(), values: { armored: k.armor() } });
    const archiveUrls = new Set<string>();
    for (const c of codenames) for (const a of findCodenameSetup(origin, c)!.archives.map(swap)) archiveUrls.add(a);
    for (const x of extras.values()) if (!x.skip) for (const a of x.archives) archiveUrls.add(a);
    for (const a of [...archiveUrls].sort()) desired.push({ kind: ConfigKind.ARCHIVE, key: a, values: {} });
    for (const c of codenames) {
      const cs = findCodenameSetup(origin, c)!;
      desired.push({
        kind: ConfigKind.SOURCE,
        key: `${origin}:${c}`,
        values: {
          archives: cs.archives.map(swap).sort(),
          aptKeys: fingerprints,
          checkValidUntil: cs.checkValidUntil ?? true,
        },
      });
    }
    for (const [key, x] of extras)
      desired.push({
        kind: ConfigKind.SOURCE,
        key,
        values: {
          archives: [...x.archives].sort(),
          aptKeys: fingerprints,
          extraIdentifiers: x.setup.extraIdentifiers ?? {},
          checkValidUntil: x.setup.checkValidUntil ?? true,
          removeFromComponent: x.setup.removeFromComponent ?? '',
        },
        skip: x.skip,
      });
    const layouts = new Set(repositories.map((r) => r.layout ?? defaultLayout(r.identity)));
    for (const p of LAYOUT_PRESETS.filter((p) => layouts.has(p.name)))
      desired.push({ kind: ConfigKind.LAYOUT, key: p.name, values: layoutValues(p) });
    for (const c of codenames) {
      const cs = findCodenameSetup(origin, c)!;
      const release = base.get(c)!;
      desired.push({
        kind: ConfigKind.DISTRIBUTION,
        key: c,
        values: {
          components: sortComponents(cs.components.filter((x) => release.components.includes(x) || x === 'main')),
          architectures,
          optionalArchitectures: setup.distributionDefaults.optionalArchitectures.filter(
            (a) => architectures.includes(a) && architectures.length > 1,
          ),
          extraSources: cs.extraSources
            .filter((x) => !extras.get(`${x.origin}:${x.codename}`)?.skip)
            .map((x) => `${x.origin}:${x.codename}:${x.priority}`)
            .sort(),
          debBuildOptions: setup.distributionDefaults.debBuildOptions,
        },
      });
    }
    for (const r of repositories)
      desired.push({
        kind: ConfigKind.REPOSITORY,
        key: r.identity,
        values: {
          layout: r.layout ?? defaultLayout(r.identity),
          distributions: [...(r.codenames?.length ? r.codenames : codenames)].sort(),
          allowUnauthenticatedUploads: r.identity === 'test',
        },
      });
    // Last: a chroot takes a minute to make, and everything else is usable without it.
    if (input.chroots)
      for (const c of codenames)
        for (const a of architectures)
          desired.push({
            kind: ConfigKind.CHROOT,
            key: `${c}-${a}`,
            values: { source: `${origin}:${c}`, backend: input.chrootBackend ?? ChrootBackend.SCHROOT },
          });
    return desired;
  }

  private async inspect(em: EntityManager, d: Desired): Promise<SetupEntry> {
    const entry: SetupEntry = {
      kind: d.kind,
      key: d.key,
      state: SetupState.MISSING,
      changes: [],
      note: null,
      result: null,
      error: null,
    };
    if (d.skip) return { ...entry, state: SetupState.SKIPPED, note: d.skip };
    const h = this.config.lifecycle.handler(d.kind);
    const o = await h.find(em, d.key);
    if (!o) return { ...entry, changes: Object.entries(d.values).map(([field, to]) => ({ field, from: null, to })) };
    await h.load?.(em, o);
    entry.changes = this.config.diff(d.kind, o, d.values);
    if (entry.changes.length) entry.state = SetupState.CHANGED;
    else if (o instanceof Configurable && h.lifecycle && o.status !== ConfigStatus.ACTIVE) {
      entry.state = SetupState.FAILING;
      entry.note = o.problem ?? `${o.status.toLowerCase()}, ${o.checkState.toLowerCase().replace('_', ' ')}`;
    } else entry.state = SetupState.UNCHANGED;
    return entry;
  }

  private async applyOne(em: EntityManager, d: Desired, entry: SetupEntry, by: string | null): Promise<void> {
    if (d.skip) {
      entry.result = SetupResult.SKIPPED;
      return;
    }
    try {
      const h = this.config.lifecycle.handler(d.kind);
      const { object, created, changes } = await this.config.setNow(em.fork(), d.kind, d.key, d.values, {
        create: true,
        by,
      });
      entry.result = created ? SetupResult.CREATED : changes.length ? SetupResult.UPDATED : SetupResult.UNCHANGED;
      if (h.lifecycle) {
        const fresh = em.fork();
        const o = await h.find(fresh, h.keyOf(object));
        if (o instanceof Configurable && !(o.status === ConfigStatus.ACTIVE && o.checkState === CheckState.CHECKED)) {
          await this.config.lifecycle.apply(fresh, o, LifecycleAction.PCA, by, new Set());
          if (entry.result === SetupResult.UNCHANGED) entry.result = SetupResult.ACTIVATED;
        }
      }
    } catch (err) {
      entry.result = SetupResult.FAILED;
      entry.error = (err as Error).message;
    }
  }
}

function defaultLayout(identity: string): string {
  return identity === 'debdev' ? 'Debian Developer' : 'Default';
}

function archiveUrl(field: string, url: string): string {
  if (!/^https?:\/\/[^\s]+$/.test(url)) throw invalid(`${field}: "${url}" is not an http:// or https:// URL`);
  return url.replace(/\/+$/, '') + '/';
}

async function hostArchitecture(): Promise<string> {
  const r = await execa('dpkg', ['--print-architecture'], { reject: false });
  return r.exitCode === 0 ? String(r.stdout).trim() : (DPKG_ARCH[process.arch] ?? process.arch);
}

function invalid(message: string, cause?: unknown): DomainError {
  const code = (cause as { code?: unknown } | undefined)?.code;
  return new DomainError('BAD_USER_INPUT', message, typeof code === 'string' ? { reason: code } : {});
}
