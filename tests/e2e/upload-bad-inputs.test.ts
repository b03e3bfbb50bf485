import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { writeSparseBomb, writeTarball, type TarMemberSpec } from '@debyard/server/dist/upload/test-support.js';
import { eventually, TestDaemon } from '../support/daemon.js';
import {
  fakedSystemTime,
  ftpSend,
  generateUploaderKey,
  makeUpload,
  type MadeUpload,
  type MakeUploadOptions,
  type UploaderKey,
} from '../support/uploads.js';

/**
 * Bad uploads end to end (bad inputs C.4 7–22, 25 and 27): each is built with makeUpload, sent over FTP
 * with curl (a client that checks nothing), and must end REJECTED with its code and a precise reason.
 * They are all sent first and awaited together. Afterwards the daemon is up, the repository's indices
 * are byte for byte as before, its pool holds nothing of them, and every REJECTED event carries the
 * code. The daemon has no chroot: nothing here may get as far as a build, and the one upload that
 * passes every check (the first copy of the replay) is refused for want of one.
 */

const DIST = 'bookworm-test-unstable';
const DAY = 24 * 3600 * 1000;
const GiB = 1024 ** 3;
/** A version the Default layout takes in unstable (~test12+[1-9]…), unique per case. */
const V = (n: number) => `1.0~test12+${n}`;
/** A 3.0 (quilt) version with its own orig tarball, unique per case. */
const Q = (n: number) => `1.${n}-1~test12+1`;

interface UploadRow {
  id: string;
  changesName: string;
  state: string;
  rejectCode: string | null;
  reason: string | null;
  signedBy: string | null;
  receivedAt: string;
  finishedAt: string | null;
}

interface BadUpload {
  what: string;
  /** Builds the upload; `n` makes its version (and so its file names) unique. */
  make: (n: number) => Promise<MadeUpload>;
  code: string;
  reason: RegExp;
}

/** Runs `fn` over `items`, `limit` at a time (the machine has two cores). */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** SHA-256 of every Sources and Packages index under `dists`, by path. */
async function indices(dists: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (const entry of await fs.readdir(dists, { recursive: true, withFileTypes: true }))
    if (entry.isFile() && /^(Sources|Packages)(\.\w+)?$/.test(entry.name)) {
      const file = path.join(entry.parentPath, entry.name);
      found[path.relative(dists, file)] = createHash('sha256')
        .update(await fs.readFile(file))
        .digest('hex');
    }
  return found;
}

describe('bad uploads over FTP', { concurrency: false }, () => {
  let daemon: TestDaemon;
  let token: string;
  let work: string;
  let uploader: UploaderKey;
  let stranger: UploaderKey;
  let ungranted: UploaderKey;
  let ancient: UploaderKey;
  let rsa: UploaderKey;
  const made: string[] = [];

  const gql = async <T>(query: string, variables: Record<string, unknown> = {}) => {
    const r = await daemon.gql<T>(query, variables, token);
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return r.data!;
  };
  const uploads = async () =>
    (
      await gql<{ uploads: { nodes: UploadRow[] } }>(
        '{ uploads(first: 200) { nodes { id changesName state rejectCode reason signedBy receivedAt finishedAt } } }',
      )
    ).uploads.nodes;
  const rowsOf = async (changesName: string) => (await uploads()).filter((r) => r.changesName === changesName);
  const cli = async (args: string[]) => {
    const r = await daemon.cli(args, { timeoutMs: 120_000 });
    assert.equal(r.exitCode, 0, `debyard ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r;
  };
  const register = async (key: UploaderKey, repositories: string) => {
    const armored = path.join(work, `${key.fingerprint}.asc`);
    await fs.writeFile(armored, key.armored);
    await cli([
      'config',
      'uploader',
      'create',
      key.fingerprint,
      `armored=@${armored}`,
      `repositories=${repositories}`,
      'user=admin',
    ]);
    await cli(['config', 'uploader', 'pca', key.fingerprint]);
  };

  before(async () => {
    const t0 = Date.now();
    work = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-bad-uploads-'));
    [daemon, uploader, stranger, ungranted, ancient, rsa] = await Promise.all([
      TestDaemon.start(),
      generateUploaderKey({ name: 'Bad Inputs Tester', email: 'bad@debyard.example.org' }),
      generateUploaderKey({ name: 'Stranger' }),
      generateUploaderKey({ name: 'Ungranted Tester', email: 'ungranted@debyard.example.org' }),
      generateUploaderKey({ name: 'Ancient Tester', createdAt: new Date(Date.now() - 400 * DAY) }),
      generateUploaderKey({ name: 'Rsa Tester', algorithm: 'rsa2048' }),
    ]);
    token = await daemon.adminToken;
    console.log(`# daemon and keys ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    await cli(['setup', '--codename', 'bookworm', '--arch', 'amd64', '--repository', 'test', '--apply']);
    await cli(['config', 'repository', 'set', 'test', 'allowUnauthenticatedUploads=false']);
    await cli(['config', 'repository', 'pca', 'test']);
    await Promise.all([
      register(uploader, 'test'),
      register(ancient, 'test'),
      register(rsa, 'test'),
      register(ungranted, ''),
    ]);
    console.log(`# set-up ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  after(async () => {
    await daemon?.dispose();
    await Promise.all([uploader, stranger, ungranted, ancient, rsa].map((k) => k?.dispose()));
    await Promise.all([work, ...made].map((d) => d && fs.rm(d, { recursive: true, force: true })));
  });

  /** hello-all for unstable, signed by the uploader; `opts` say what is wrong with it. */
  const upload = async (version: string, opts: MakeUploadOptions = {}) => {
    const u = await makeUpload('hello-all', { version, distribution: DIST, sign: uploader, ...opts });
    made.push(u.dir);
    return u;
  };
  /** Edits the .changes before it is signed. */
  const edited = (edit: (changes: string) => string) => (n: number) => upload(V(n), { edit });
  /** Replaces the native tarball with one holding `members` below hello-all-1.0/. */
  const tarball =
    (...members: TarMemberSpec[]) =>
    (n: number) =>
      upload(V(n), {
        editSource: ({ dir }) =>
          writeTarball(path.join(dir, `hello-all_${V(n)}.tar.xz`), [
            { name: 'hello-all-1.0/', type: 'dir' },
            { name: 'hello-all-1.0/greeting.txt', data: 'hello\n' },
            ...members,
          ]),
      });

  const cases: BadUpload[] = [
    // .changes parsing (C.4 7–12)
    {
      what: 'Changed-By missing',
      make: edited((t) => t.replace(/^Changed-By: .*\n/m, '')),
      code: 'FIELD_MISSING',
      reason: /_source\.changes: Changed-By is missing: was the changelog entry finalised \(dch -r\)\?$/,
    },
    {
      what: 'not UTF-8',
      make: (n) =>
        upload(V(n), {
          editSigned: (b) => Buffer.from(b.toString('latin1').replace('Debyard Tests', 'D\xe9byard Tests'), 'latin1'),
        }),
      code: 'CHANGES_INVALID',
      reason: /_source\.changes: not valid UTF-8$/,
    },
    {
      what: 'CRLF line endings (after signing, as a transfer in text mode would)',
      make: (n) => upload(V(n), { editSigned: (b) => Buffer.from(b.toString('utf8').replace(/\n/g, '\r\n')) }),
      code: 'CHANGES_INVALID',
      reason:
        /_source\.changes: line 1 holds a carriage return \(CRLF or CR line endings\): a \.changes has LF line endings only; .*upload the file as debsign wrote it$/,
    },
    {
      what: 'a duplicate field',
      make: edited((t) => t.replace(/^(Urgency: .*)$/m, '$1\nUrgency: high')),
      code: 'CHANGES_INVALID',
      reason: /_source\.changes:\d+: duplicate field Urgency \(first at line \d+\)$/,
    },
    {
      what: 'two paragraphs',
      make: edited((t) => `${t}\nSource: hello-all\nDistribution: bookworm-test-experimental\n`),
      code: 'CHANGES_INVALID',
      reason: /_source\.changes:\d+: expected one paragraph, found 2$/,
    },
    {
      what: 'text after the signed part',
      make: (n) =>
        upload(V(n), { editSigned: (b) => Buffer.concat([b, Buffer.from('Distribution: bookworm-test-testing\n')]) }),
      code: 'SIGNATURE_INVALID',
      reason: /_source\.changes has unsigned text after the signature, at line \d+$/,
    },
    {
      what: 'text before the signed part',
      make: (n) => upload(V(n), { editSigned: (b) => Buffer.concat([Buffer.from('Source: evil\n\n'), b]) }),
      code: 'CHANGES_INVALID',
      reason: /_source\.changes: there is text before the signed part; upload the file as debsign wrote it$/,
    },
    {
      what: 'a Files entry naming a path',
      make: edited((t) => t.replace(/^( [0-9a-f]{32} \d+ \S+ \S+ )(\S+\.tar\.xz)$/m, '$1a/$2')),
      code: 'FILE_NAME',
      reason:
        /_source\.changes lists an unsafe file name: "a\/hello-all_1\.0~test12\+\d+\.tar\.xz" contains a directory separator; upload plain file names only$/,
    },
    {
      what: 'a file in Checksums-Sha256 but not in Files',
      make: edited((t) => t.replace(/^ [0-9a-f]{32} \d+ \S+ \S+ \S+\.tar\.xz\n/m, '')),
      code: 'CHANGES_INVALID',
      reason: /_source\.changes: hello-all_1\.0~test12\+\d+\.tar\.xz is in Checksums-Sha256 but not in Files$/,
    },
    {
      what: 'several distributions',
      make: edited((t) => t.replace(/^Distribution: .*$/m, `Distribution: ${DIST} bookworm-test-experimental`)),
      code: 'CHANGES_INVALID',
      reason:
        /: Distribution "bookworm-test-unstable bookworm-test-experimental" names several distributions; upload to one at a time$/,
    },
    {
      what: 'a rollback distribution',
      make: (n) => upload(V(n), { distribution: `${DIST}-rollback0` }),
      code: 'SUITE_NOT_UPLOADABLE',
      reason:
        /^bookworm-test-unstable-rollback0 is a rollback distribution and takes no uploads: upload to bookworm-test-unstable$/,
    },
    {
      what: 'a suite that takes no uploads',
      make: (n) => upload(V(n), { distribution: 'bookworm-test-testing' }),
      code: 'SUITE_NOT_UPLOADABLE',
      reason:
        /^bookworm-test-testing takes no uploads \(packages reach testing by migration\): upload to (bookworm-test-[a-z]+ or )*bookworm-test-unstable( or bookworm-test-[a-z]+)*$/,
    },
    {
      what: 'Architecture: source amd64',
      make: edited((t) => t.replace(/^Architecture: source$/m, 'Architecture: source amd64')),
      code: 'NOT_SOURCE',
      reason:
        /has Architecture "source amd64": debyard takes source-only uploads and builds the binaries itself; build it with dpkg-buildpackage -S$/,
    },
    {
      what: 'a .deb listed',
      make: (n) => {
        const deb = `hello-all_${V(n)}_all.deb`;
        return upload(V(n), {
          editSource: ({ dir }) => fs.writeFile(path.join(dir, deb), 'not really a .deb\n'),
          edit: (t) =>
            t
              .replace(/^Files:\n/m, `Files:\n ${'0'.repeat(32)} 18 misc optional ${deb}\n`)
              .replace(/^Checksums-Sha256:\n/m, `Checksums-Sha256:\n ${'0'.repeat(64)} 18 ${deb}\n`),
        });
      },
      code: 'NOT_SOURCE',
      reason:
        /lists the binary package hello-all_1\.0~test12\+\d+_all\.deb: debyard takes source-only uploads \(dpkg-buildpackage -S\)$/,
    },
    {
      what: 'no .dsc',
      make: edited((t) => t.replace(/^ [0-9a-f]+ \d+ (?:\S+ \S+ )?\S+\.dsc\n/gm, '')),
      code: 'NOT_SOURCE',
      reason: /_source\.changes lists no \.dsc: a source upload has exactly one$/,
    },
    {
      what: 'a Maintainer that does not parse',
      make: edited((t) => t.replace(/^Maintainer: .*$/m, 'Maintainer: Debyard Tests tests@debyard.example.org')),
      code: 'CHANGES_INVALID',
      reason:
        /_source\.changes: Maintainer "Debyard Tests tests@debyard\.example\.org" is not "Name <address@host>": fix the Maintainer field of debian\/control and rebuild the source package$/,
    },
    {
      what: 'Closes that are no bug numbers',
      make: edited((t) => t.replace(/^Changes:/m, 'Closes: 1234 fixes-everything\nChanges:')),
      code: 'CHANGES_INVALID',
      reason:
        /_source\.changes: Closes "1234 fixes-everything" is not a list of bug numbers separated by spaces: write "Closes: #123, #456" in debian\/changelog/,
    },

    // files (C.4 9)
    {
      what: 'a listed file changed after the .changes was made (one byte more)',
      make: async (n) => {
        const u = await upload(V(n));
        await fs.appendFile(
          path.join(
            u.dir,
            u.files.find((f) => f.endsWith('.tar.xz'))!,
          ),
          'x',
        );
        return u;
      },
      code: 'FILE_SIZE',
      reason:
        /^hello-all_1\.0~test12\+\d+\.tar\.xz has \d+ bytes, but hello-all_1\.0~test12\+\d+_source\.changes says \d+: upload it again \(was the transfer cut short\?\)$/,
    },
    {
      what: 'a distribution nobody configured',
      make: (n) => upload(V(n), { distribution: 'bookworm-nosuch-unstable' }),
      code: 'DISTRIBUTION_UNKNOWN',
      reason: /bookworm-nosuch-unstable/,
    },

    // signatures (C.4 13–16)
    {
      what: 'unsigned',
      make: (n) => upload(V(n), { sign: undefined }),
      code: 'SIGNATURE_MISSING',
      reason:
        /^hello-all_1\.0~test12\+\d+_source\.changes is not signed and repository test takes only signed uploads: sign it with "debsign -k <your key id> hello-all_1\.0~test12\+\d+_source\.changes"$/,
    },
    {
      what: 'a bad signature (the body changed after signing)',
      make: (n) =>
        upload(V(n), {
          editSigned: (b) => Buffer.from(b.toString('utf8').replace('Urgency: medium', 'Urgency: high')),
        }),
      code: 'SIGNATURE_INVALID',
      reason:
        /_source\.changes: no valid signature by a known key — [0-9A-F]{16}: .*: the file was changed after it was signed; sign it again$/,
    },
    {
      what: 'a key nobody registered',
      make: (n) => upload(V(n), { sign: stranger }),
      code: 'SIGNATURE_INVALID',
      reason:
        /_source\.changes: no valid signature by a known key \(add the signer’s key to the keyring this check uses\) — [0-9A-F]{16}: Could not find signing key .*: the key is not known here; add it to your uploader profile/,
    },
    {
      what: 'a known key that may not upload to the repository',
      make: (n) => upload(V(n), { sign: ungranted }),
      code: 'KEY_NOT_ALLOWED',
      reason:
        /^key [0-9A-F]{40} may not upload to repository test \(admin may upload to no repository\): ask an administrator to activate the key and grant it this repository$/,
    },
    {
      // gpg makes SHA-1 signatures with an RSA key when told to; openpgp.js refuses them as insecure.
      what: 'a SHA-1 signature',
      make: (n) => upload(V(n), { sign: rsa, gpgOptions: ['--digest-algo', 'SHA1'] }),
      code: 'SIGNATURE_INVALID',
      reason:
        /[0-9A-F]{16}: Insecure message hash algorithm: SHA1 .*: sign it again with a strong key and digest \(Ed25519, or RSA of at least 2048 bits, with SHA-256 or better/,
    },
    {
      what: 'a signature older than a year',
      make: (n) => upload(V(n), { sign: ancient, gpgOptions: fakedSystemTime(new Date(Date.now() - 370 * DAY)) }),
      code: 'SIGNATURE_INVALID',
      reason:
        /_source\.changes was signed on \d{4}-\d\d-\d\dT[\d:]{8}\.000Z, 370 days ago: signatures older than a year \(365 days\) are not accepted; sign it again with debsign$/,
    },
    {
      what: 'a signature dated 10 days ahead',
      make: (n) => upload(V(n), { gpgOptions: fakedSystemTime(new Date(Date.now() + 10 * DAY)) }),
      code: 'SIGNATURE_INVALID',
      reason:
        /Signature creation time is in the future \(signed \S+\): it says it was signed at \S+, more than 7 days after the time here \(\S+\); set the clock of the computer that signed it right and sign it again$/,
    },
    {
      what: 'the .changes and the .dsc signed by different keys',
      make: (n) => upload(V(n), { signDsc: ungranted }),
      code: 'DSC_SIGNATURE',
      reason:
        /^hello-all_1\.0~test12\+\d+\.dsc is signed by key [0-9A-F]{40}, but .*_source\.changes by key [0-9A-F]{40}: sign both with the same key \(debsign does\)$/,
    },

    // source packages (C.4 19–22)
    {
      what: 'an orig tarball in neither the upload nor the pool',
      make: (n) => upload(Q(n), { include: 'no-orig' }),
      code: 'DSC_FILE_MISSING',
      reason:
        /^hello-all_1\.\d+\.orig\.tar\.gz, listed in hello-all_1\.\d+-1~test12\+1\.dsc, is neither in the upload nor in repository test's pool: include it \(dpkg-buildpackage -S -sa\)$/,
    },
    {
      what: 'a "../" member',
      make: tarball({ name: 'hello-all-1.0/../../evil', data: 'x' }),
      code: 'SOURCE_UNSAFE',
      reason:
        /\.tar\.xz: member "hello-all-1\.0\/\.\.\/\.\.\/evil" has a "\.\." component: repack the tarball without it/,
    },
    {
      what: 'an absolute member',
      make: tarball({ name: '/etc/cron.d/evil', data: '* * * * * root true\n' }),
      code: 'SOURCE_UNSAFE',
      reason: /\.tar\.xz: member "\/etc\/cron\.d\/evil" has an absolute name: repack the tarball without it/,
    },
    {
      what: 'a symlink to /etc/passwd',
      make: tarball({ name: 'hello-all-1.0/passwd', type: 'symlink', link: '/etc/passwd' }),
      code: 'SOURCE_UNSAFE',
      reason: /\.tar\.xz: member "hello-all-1\.0\/passwd" is a symlink to the absolute path "\/etc\/passwd"/,
    },
    {
      what: 'a setuid file',
      make: tarball({ name: 'hello-all-1.0/su', data: '#!/bin/sh\n', mode: 0o4755 }),
      code: 'SOURCE_UNSAFE',
      reason: /\.tar\.xz: member "hello-all-1\.0\/su" is setuid \(rwsr-xr-x\)/,
    },
    {
      what: 'a device node',
      make: tarball({ name: 'hello-all-1.0/null', type: 'chardev' }),
      code: 'SOURCE_UNSAFE',
      reason: /\.tar\.xz: member "hello-all-1\.0\/null" is a device node/,
    },
    {
      what: 'a debian.tar whose debian is a symlink',
      make: (n) =>
        upload(Q(n), {
          editSource: ({ dir }) =>
            writeTarball(path.join(dir, `hello-all_${Q(n)}.debian.tar.xz`), [
              { name: 'debian', type: 'symlink', link: 'upstream-debian' },
            ]),
        }),
      code: 'SOURCE_UNSAFE',
      reason:
        /^hello-all_1\.\d+-1~test12\+1\.debian\.tar\.xz: member "debian" is a symlink \(to "upstream-debian"\); debian\/ must be a directory/,
    },
    {
      what: 'a decompression bomb (a sparse 5 GiB member in a few hundred bytes)',
      make: (n) =>
        upload(V(n), {
          editSource: ({ dir }) =>
            writeSparseBomb(path.join(dir, `hello-all_${V(n)}.tar.xz`), 5 * GiB, 'hello-all-1.0'),
        }),
      code: 'SOURCE_UNSAFE',
      reason:
        /\.tar\.xz: the source tarballs declare more than 4294967296 bytes unpacked \("hello-all-1\.0\/bomb" alone 5368709120\): a decompression bomb, or far too large: debyard does not unpack source packages that large$/,
    },

    // versions (C.4 25; versions installed before need a build, see pipeline.test.ts)
    {
      what: 'a version that breaks the suite’s rule',
      make: (n) => upload(`${n}.0`),
      code: 'VERSION_RULE',
      reason:
        /^version \d+\.0 does not match the rule for bookworm-test-unstable: ~test12\\\+\[1-9\] \(e\.g\. \d+\.0~test12\+1; set it in debian\/changelog\)$/,
    },

    // upload options (C.4 27)
    {
      what: 'an unknown upload option',
      make: (n) => upload(V(n), { changesExtra: ['MINI_BUILDD_OPTION: lintian=ignore'] }),
      code: 'OPTION_UNKNOWN',
      reason: /^unknown upload option "lintian" in "MINI_BUILDD_OPTION: lintian=ignore": known options: /,
    },
    {
      what: 'a duplicate upload option',
      make: (n) =>
        upload(V(n), {
          changesExtra: ['MINI_BUILDD_OPTION: lintian-mode=ignore', 'MINI_BUILDD_OPTION: lintian-mode=errfail'],
        }),
      code: 'OPTION_DUPLICATE',
      reason: /^upload option lintian-mode is given twice in the top changelog entry$/,
    },
    {
      what: 'an invalid upload option',
      make: (n) => upload(V(n), { changesExtra: ['MINI_BUILDD_OPTION: internal-apt-priority=high'] }),
      code: 'OPTION_INVALID',
      reason:
        /^upload option "MINI_BUILDD_OPTION: internal-apt-priority=high": invalid value "high": use a whole number, e\.g\. 500$/,
    },
  ];

  it('rejects each with its code and a precise reason, the replay too; the daemon is up and the repository untouched', async () => {
    const dists = path.join(daemon.dataDir, 'repositories/test/dists');
    const before = await indices(dists);
    assert.ok(Object.keys(before).length > 0, 'the repository has indices');
    const { events: last } = await gql<{ events: { id: string }[] }>('{ events(limit: 1) { id } }');

    const t0 = Date.now();
    const bad = await mapLimit(cases, 3, (c, i) => c.make(i + 10));
    // The replay: one signed upload that passes every check, sent twice, the second once the first is in.
    const replayed = await upload(V(9));
    console.log(`# made ${bad.length + 1} uploads in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    const t1 = Date.now();
    await ftpSend(daemon.ftpPort, replayed);
    await eventually(() => rowsOf(replayed.changesName).then((rows) => (rows.length ? rows : undefined)));
    await ftpSend(daemon.ftpPort, replayed);
    await mapLimit(bad, 4, (u) => ftpSend(daemon.ftpPort, u));

    const all = await eventually(async () => {
      const rows = await uploads();
      const settled = (name: string, count: number) =>
        rows.filter((r) => r.changesName === name && !['RECEIVED', 'PACKAGING'].includes(r.state)).length === count;
      return bad.every((u) => settled(u.changesName, 1)) && settled(replayed.changesName, 2) ? rows : undefined;
      // Generous: on a loaded 2-core machine (two test files building at once) they settled in over a minute.
    }, 180_000);
    console.log(`# sent and settled in ${((Date.now() - t1) / 1000).toFixed(1)} s`);

    const failures: string[] = [];
    cases.forEach((c, i) => {
      const row = all.find((r) => r.changesName === bad[i]!.changesName)!;
      const got = `${row.state} ${row.rejectCode}: ${row.reason}`;
      if (row.state !== 'REJECTED' || row.rejectCode !== c.code || !c.reason.test(row.reason ?? ''))
        failures.push(`${c.what}: expected REJECTED ${c.code} matching ${c.reason}, got ${got}`);
    });
    assert.deepEqual(failures, []);

    const bomb = all.find((r) => r.changesName === bad[cases.findIndex((c) => c.what.includes('bomb'))]!.changesName)!;
    const bombMs = Date.parse(bomb.finishedAt!) - Date.parse(bomb.receivedAt);
    assert.ok(bombMs < 10_000, `the bomb was refused in ${bombMs} ms`);

    const [first, second] = all.filter((r) => r.changesName === replayed.changesName).sort((a, b) => +a.id - +b.id);
    assert.equal(first!.state, 'REJECTED');
    assert.equal(first!.rejectCode, 'CHROOT_MISSING', first!.reason ?? '');
    assert.match(first!.reason ?? '', /there is no chroot bookworm-amd64/);
    assert.equal(first!.signedBy, uploader.fingerprint, 'a verified signature is recorded with the rejection');
    assert.equal(second!.rejectCode, 'REPLAY', second!.reason ?? '');
    assert.match(
      second!.reason ?? '',
      new RegExp(
        `^${replayed.changesName.replace(/[.+~]/g, '\\$&')} was already uploaded as upload ${first!.id} on \\S+ \\(this signed \\.changes has been seen before(, and was rejected)?\\): sign it again \\(debsign\\) to send it once more`,
      ),
    );

    // Every rejection is an event with its code.
    const { events } = await gql<{ events: { type: string; payload: Record<string, unknown> }[] }>(
      'query($after: ID) { events(after: $after, limit: 500) { type payload } }',
      { after: last[0]?.id ?? null },
    );
    for (const row of all.filter((r) => r.state === 'REJECTED')) {
      const event = events.find((e) => e.type === 'REJECTED' && String(e.payload.upload) === row.id);
      assert.ok(event, `a REJECTED event for upload ${row.id} (${row.changesName})`);
      assert.equal(event.payload.code, row.rejectCode, row.changesName);
      assert.equal(event.payload.changes, row.changesName);
    }

    assert.equal((await daemon.cli(['status'])).exitCode, 0, 'the daemon is up');
    assert.deepEqual(await indices(dists), before, 'Sources and Packages are byte for byte as before');
    const pool = path.join(daemon.dataDir, 'repositories/test/pool');
    const pooled = (await fs.readdir(pool, { recursive: true }).catch(() => [] as string[])).filter((f) =>
      f.includes('hello-all'),
    );
    assert.deepEqual(pooled, [], 'nothing of the rejected uploads is in the pool');
  });
});
