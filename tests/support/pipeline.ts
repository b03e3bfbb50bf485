/**
 * A daemon ready for real uploads, shared by the pipeline suites: `setup --chroots` for bookworm/amd64
 * with repository `test`, an activated uploader key allowed to upload there, and the dput
 * configuration `debyard dput-config` prints. Uploads go in with stock `dput` over FTP.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { eventually, TestDaemon } from './daemon.js';
import {
  generateUploaderKey,
  makeUpload,
  type MadeUpload,
  type MakeUploadOptions,
  type UploaderKey,
} from './uploads.js';

export interface UploadRow {
  id: string;
  state: string;
  source: string | null;
  version: string | null;
  rejectCode: string | null;
  reason: string | null;
  uploader: string | null;
  signedBy: string | null;
  receivedAt: string;
  finishedAt: string | null;
  builds: { id: string; architecture: string; result: string | null; sbuildSeconds: number | null }[];
}

export const UPLOAD_FIELDS =
  'id state source version rejectCode reason uploader signedBy receivedAt finishedAt builds { id architecture result sbuildSeconds }';
export const DIST = 'bookworm-test-unstable';
/** The Default layout's rule for unstable in repository test on bookworm (12): ~test12+[1-9]. */
export const V = (base: string, n = 1) => `${base}~test12+${n}`;
/** A version as a regular expression that matches it literally. */
export const literal = (version: string) => new RegExp(version.replace(/[+.~]/g, '\\$&'));

export class PipelineFixture {
  private readonly made: string[] = [];

  private constructor(
    public daemon: TestDaemon,
    public token: string,
    readonly key: UploaderKey,
    readonly work: string,
    readonly dputCf: string,
    readonly identity: string,
  ) {}

  /** Starts and sets up the daemon (a real chroot: about half a minute with a warm cache). */
  static async start(name: string): Promise<PipelineFixture> {
    const daemon = await TestDaemon.start();
    const token = await daemon.adminToken;
    const work = await fs.mkdtemp(path.join(os.tmpdir(), `debyard-${name}-`));
    await fs.chmod(work, 0o755);
    const key = await generateUploaderKey({ name: 'Pipeline Tester', email: 'pipeline@debyard.example.org' });
    try {
      const setup = await daemon.cli(
        ['setup', '--codename', 'bookworm', '--arch', 'amd64', '--repository', 'test', '--chroots', '--apply'],
        { timeoutMs: 600_000 },
      );
      assert.equal(setup.exitCode, 0, setup.stdout + setup.stderr);
      const status = await daemon.gql<{ status: { identity: string } }>('{ status { identity } }', {}, token);
      const armored = path.join(work, 'uploader.asc');
      await fs.writeFile(armored, key.armored);
      for (const args of [
        ['config', 'uploader', 'create', key.fingerprint, `armored=@${armored}`, 'repositories=test', 'user=admin'],
        ['config', 'uploader', 'pca', key.fingerprint],
      ]) {
        const r = await daemon.cli(args);
        assert.equal(r.exitCode, 0, r.stdout + r.stderr);
      }
      const cf = await daemon.cli(['dput-config']);
      assert.equal(cf.exitCode, 0, cf.stderr);
      const dputCf = path.join(work, 'dput.cf');
      await fs.writeFile(dputCf, cf.stdout);
      return new PipelineFixture(daemon, token, key, work, dputCf, status.data!.status.identity);
    } catch (err) {
      await daemon.dispose();
      await key.dispose();
      throw err;
    }
  }

  async gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    const r = await this.daemon.gql<T>(query, variables, this.token);
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return r.data!;
  }

  async uploadsOf(source: string): Promise<UploadRow[]> {
    const { uploads } = await this.gql<{ uploads: { nodes: UploadRow[] } }>(
      `query($s: String) { uploads(source: $s) { nodes { ${UPLOAD_FIELDS} } } }`,
      { s: source },
    );
    return uploads.nodes;
  }

  /** Waits until the upload of `source` `version` is INSTALLED, FAILED or REJECTED. */
  settled(source: string, version: string, timeoutMs = 300_000): Promise<UploadRow> {
    return eventually(async () => {
      const u = (await this.uploadsOf(source)).find((n) => n.version === version);
      return u && ['INSTALLED', 'FAILED', 'REJECTED'].includes(u.state) ? u : undefined;
    }, timeoutMs);
  }

  /** Stock dput with the daemon's dput-config section, signed uploads by the fixture's key. */
  async dput(changes: string): Promise<void> {
    const r = await execa('dput', ['-c', this.dputCf, `debyard-${this.identity}`, changes], {
      reject: false,
      all: true,
      env: { GNUPGHOME: this.key.gnupgHome, HOME: this.work },
    });
    assert.equal(r.exitCode, 0, String(r.all));
  }

  /** Makes a signed upload of a fixture package (to unstable unless told otherwise). */
  async make(name: string, version: string, extra: Omit<MakeUploadOptions, 'version'> = {}): Promise<MadeUpload> {
    const u = await makeUpload(name, { version, distribution: DIST, sign: this.key, ...extra });
    this.made.push(u.dir);
    return u;
  }

  /** Makes and dputs a signed upload of a fixture package. */
  async upload(name: string, version: string, extra: Omit<MakeUploadOptions, 'version'> = {}): Promise<MadeUpload> {
    const u = await this.make(name, version, extra);
    await this.dput(u.changes);
    return u;
  }

  /** kill -9 of the daemon, `between` (as root), then a start on the same data directory and ports. */
  async killAndRestart(between?: () => Promise<void>): Promise<void> {
    const { dataDir, httpPort, ftpPort } = this.daemon;
    await this.daemon.stop('SIGKILL');
    await between?.();
    this.daemon = await TestDaemon.start({ dataDir, httpPort, ftpPort });
    this.token = await this.daemon.adminToken;
  }

  /** `reprepro check` of repository test, as the daemon's user: the database agrees with the pool. */
  async repreproCheck(): Promise<void> {
    const check = await execa(
      'runuser',
      ['-u', 'debyard', '--', 'reprepro', '-b', path.join(this.daemon.dataDir, 'repositories/test'), 'check'],
      { reject: false, all: true, env: { GNUPGHOME: path.join(this.daemon.dataDir, 'keys/gnupg') } },
    );
    assert.equal(check.exitCode, 0, String(check.all));
  }

  async dispose(): Promise<void> {
    await this.daemon.cli(['config', 'chroot', 'remove', 'bookworm-amd64'], { timeoutMs: 120_000 });
    await this.daemon.dispose();
    await this.key.dispose();
    for (const dir of this.made) await fs.rm(dir, { recursive: true, force: true });
    await fs.rm(this.work, { recursive: true, force: true });
  }
}
