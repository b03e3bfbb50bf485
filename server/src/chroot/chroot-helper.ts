import fs from 'node:fs/promises';
import { execa } from 'execa';
import { failureReason, type ChrootLog } from './chroot-log.js';

/** Installed by scripts/setup.sh (a root-owned copy of scripts/debyard-chroot-helper). */
export const HELPER_PATH = '/usr/local/libexec/debyard/chroot-helper';
export const SCHROOT_CONF_DIR = '/etc/schroot/chroot.d';
const SESSION_DIR = '/var/lib/schroot/session';
const VERBS: Record<string, string> = {
  create: 'creating the schroot chroot',
  update: 'updating the schroot chroot',
  size: 'measuring the chroot',
  remove: 'removing the schroot chroot',
  'end-sessions': 'ending stale schroot sessions',
};

/** A failure of the root helper, with the reason taken from its output. */
export class ChrootHelperError extends Error {
  override readonly name = 'ChrootHelperError';
  constructor(
    readonly code: 'HELPER_MISSING' | 'SUDO_REFUSED' | 'HELPER_REFUSED' | 'HELPER_FAILED',
    message: string,
  ) {
    super(message);
  }
}

export interface SchrootCreate {
  name: string;
  dir: string;
  suite: string;
  arch: string;
  mirror: string;
  components: string[];
  /** Binary OpenPGP keyring that signs the mirror's Release files. */
  keyring: Uint8Array;
}

/**
 * The schroot side of chroots, through the root helper (`sudo -n`): the daemon user cannot create
 * root-owned directory chroots or write /etc/schroot/chroot.d itself. Every call logs into `log`.
 */
export class ChrootHelper {
  constructor(private readonly log: ChrootLog) {}

  async create(c: SchrootCreate): Promise<void> {
    await this.call(['create', c.name, c.dir, c.suite, c.arch, c.mirror, c.components.join(',')], c.keyring);
  }

  async update(name: string): Promise<void> {
    await this.call(['update', name]);
  }

  async size(dir: string): Promise<number> {
    const out = await this.call(['size', dir]);
    const n = Number(out.at(-1));
    if (!Number.isSafeInteger(n)) throw new ChrootHelperError('HELPER_FAILED', `no size for ${dir}: ${out.at(-1)}`);
    return n;
  }

  async remove(name: string, dir: string): Promise<void> {
    await this.call(['remove', name, dir]);
  }

  async endSessions(prefix: string): Promise<void> {
    await this.call(['end-sessions', prefix]);
  }

  private async call(args: string[], input?: Uint8Array): Promise<string[]> {
    await assertHelperInstalled();
    const r = await this.log.run('sudo', ['-n', HELPER_PATH, ...args], { input });
    if (r.exitCode === 0) return r.tail;
    if (r.tail.some((l) => /^sudo: .*(password is required|not allowed|may not run)/.test(l)))
      throw new ChrootHelperError(
        'SUDO_REFUSED',
        `the daemon user may not run ${HELPER_PATH} through sudo: run scripts/setup.sh as root (it installs /etc/sudoers.d/debyard)`,
      );
    throw new ChrootHelperError(
      r.exitCode === 2 ? 'HELPER_REFUSED' : 'HELPER_FAILED',
      `${VERBS[args[0]!] ?? args[0]} failed: ${failureReason(r.tail)}`,
    );
  }
}

async function assertHelperInstalled(): Promise<void> {
  await fs.access(HELPER_PATH, fs.constants.X_OK).catch(() => {
    throw new ChrootHelperError(
      'HELPER_MISSING',
      `${HELPER_PATH} is missing: run scripts/setup.sh as root, or use the UNSHARE backend`,
    );
  });
}

export function schrootConfPath(name: string): string {
  return `${SCHROOT_CONF_DIR}/${name}.conf`;
}

/** Names of the schroot sessions (readable by anyone) whose chroot name starts with `prefix`. */
export async function sessionsOf(prefix: string, exclude?: RegExp): Promise<string[]> {
  const names = await fs.readdir(SESSION_DIR).catch(() => [] as string[]);
  const out: string[] = [];
  for (const n of names) {
    const text = await fs.readFile(`${SESSION_DIR}/${n}`, 'utf8').catch(() => '');
    const original = /^original-name=(.*)$/m.exec(text)?.[1] ?? n;
    if (original.startsWith(prefix) && !exclude?.test(original)) out.push(n);
  }
  return out;
}

/** True when `schroot -l` knows the chroot (the daemon user may list chroots). */
export async function schrootKnows(name: string): Promise<boolean> {
  const r = await execa('schroot', ['-l'], { reject: false, cwd: '/' });
  return String(r.stdout).split('\n').includes(`chroot:${name}`);
}
