/**
 * The one wrapper around GNU tar, for listing source tarballs: it is the tar dpkg-source extracts them
 * with, so what the checks see is what gets unpacked (no second tar parser that could disagree).
 *
 * `tar --list --verbose --absolute-names --numeric-owner --quoting-style=c --full-time`, in the C locale
 * and UTC, with TAR_OPTIONS cleared, prints one line per member, parsed strictly by
 * {@link parseListingLine}. `--absolute-names` shows names and hard-link targets as stored: without it
 * tar lists hard-link targets with leading `/` and `../` already stripped (as it would extract them),
 * and the checks want to see, and name, what the tarball holds.
 *
 *   -rw-r--r-- 0/0               5 2023-11-14 22:13:20 "pkg-1.0/a \"b\"\n"
 *   lrwxrwxrwx 0/0               0 2023-11-14 22:13:20 "pkg-1.0/link" -> "target"
 *   hrw-r--r-- 0/0               0 2023-11-14 22:13:20 "pkg-1.0/hard" link to "pkg-1.0/file"
 *   crw-r--r-- 0/0             1,3 2023-11-14 22:13:20 "pkg-1.0/dev"
 *   -rw-r--r-- 0/0      5368709120 4611686018427387904  "pkg-1.0/x"
 *
 * Names are C strings (bytes outside printable ASCII as octal escapes), so a name cannot fake a
 * ` -> ` or a line of its own. The time is a date and a time, or seconds since the epoch when tar cannot
 * show it as a date; columns are separated by one or more spaces. Sparse members are listed with
 * their full size. GNU tar flushes the listing after each header, so a caller sees a member as soon as
 * tar has read its header and can stop tar there: a member that declares 5 GiB is refused before its
 * data is decompressed.
 */
import readline from 'node:readline';
import { execa } from 'execa';

export type TarMemberType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'char-device' | 'block-device' | 'fifo';

export interface TarMember {
  /** Null for a type letter debyard does not know (tar's `C` contiguous file, `V` volume label, …). */
  type: TarMemberType | null;
  /** tar's type letter: `-`, `d`, `l`, `h`, `c`, `b`, `p`, or another. */
  typeLetter: string;
  /** The permission bits as listed, e.g. `rwsr-xr-x`. */
  permissions: string;
  setuid: boolean;
  setgid: boolean;
  uid: number;
  gid: number;
  /** Declared size in bytes (0 for device nodes). */
  size: number;
  /** The name's bytes, one character per byte (latin1): exact, for comparisons and look-ups. */
  name: string;
  /** The name as tar printed it (a C string with its quotes), for messages. */
  quotedName: string;
  /** A symlink's target or the member a hard link points to, bytes as in `name`. */
  link?: string;
  quotedLink?: string;
}

export type TarErrorCode = 'TAR_FAILED' | 'TAR_OUTPUT' | 'TAR_TIMEOUT';

export class TarError extends Error {
  override readonly name = 'TarError';
  constructor(
    readonly code: TarErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const TYPES: Record<string, TarMemberType> = {
  '-': 'file',
  d: 'directory',
  l: 'symlink',
  h: 'hardlink',
  c: 'char-device',
  b: 'block-device',
  p: 'fifo',
};
const C_STRING = String.raw`"(?:[^"\\]|\\.)*"`;
const LINE = new RegExp(
  String.raw`^(\S)([-rwxsStT]{9}) +(\d+)/(\d+) +(\d+|\d+,\d+) +([^" ][^"]*?) +(${C_STRING})(?:( -> | link to )(${C_STRING}))?$`,
);
const ESCAPES: Record<string, number> = { n: 10, t: 9, r: 13, a: 7, b: 8, f: 12, v: 11 };
/** Keeps what tar says on stderr bounded: a hostile tarball can make it warn a lot. */
const MAX_STDERR = 4096;

/** Undoes tar's C quoting: returns the bytes as a latin1 string (one character per byte). */
export function unquoteC(quoted: string): string {
  if (quoted.length < 2 || !quoted.startsWith('"') || !quoted.endsWith('"'))
    throw new TarError('TAR_OUTPUT', `${quoted} is not a C string`);
  const body = quoted.slice(1, -1);
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c !== '\\') {
      const code = c.charCodeAt(0);
      if (code > 0x7e || code < 0x20) throw new TarError('TAR_OUTPUT', `${quoted} holds an unescaped byte`);
      bytes.push(code);
      continue;
    }
    const next = body[++i];
    if (next === undefined) throw new TarError('TAR_OUTPUT', `${quoted} ends in a backslash`);
    const octal = /^[0-7]{1,3}/.exec(body.slice(i, i + 3));
    if (octal) {
      const value = parseInt(octal[0], 8);
      if (value > 0xff) throw new TarError('TAR_OUTPUT', `${quoted} has an octal escape beyond a byte`);
      bytes.push(value);
      i += octal[0].length - 1;
    } else if (ESCAPES[next] !== undefined) bytes.push(ESCAPES[next]);
    else bytes.push(next.charCodeAt(0));
  }
  return Buffer.from(bytes).toString('latin1');
}

/** Parses one line of the listing (see the module comment); throws TAR_OUTPUT for anything else. */
export function parseListingLine(line: string): TarMember {
  const m = LINE.exec(line);
  if (!m) throw new TarError('TAR_OUTPUT', `tar listed a member debyard cannot read: ${JSON.stringify(line)}`);
  const [, letter, permissions, uid, gid, size, , quotedName, arrow, quotedLink] = m;
  const type = TYPES[letter!] ?? null;
  const device = size!.includes(',');
  if (device !== (type === 'char-device' || type === 'block-device') && type !== null)
    throw new TarError('TAR_OUTPUT', `tar listed a size that does not fit the member type: ${JSON.stringify(line)}`);
  if ((arrow === ' -> ') !== (type === 'symlink') || (arrow === ' link to ') !== (type === 'hardlink'))
    throw new TarError('TAR_OUTPUT', `tar listed a link that does not fit the member type: ${JSON.stringify(line)}`);
  return {
    type,
    typeLetter: letter!,
    permissions: permissions!,
    setuid: /[sS]/.test(permissions![2]!),
    setgid: /[sS]/.test(permissions![5]!),
    uid: Number(uid),
    gid: Number(gid),
    size: device ? 0 : Number(size),
    name: unquoteC(quotedName!),
    quotedName: quotedName!,
    ...(quotedLink === undefined ? {} : { link: unquoteC(quotedLink), quotedLink }),
  };
}

/**
 * Lists `file` (any compression GNU tar detects) and hands each member to `onMember` as tar reads its
 * header. When `onMember` throws, tar is killed and the error is thrown here; so are TarErrors for a
 * tar that fails (TAR_FAILED, with what it said), prints what {@link parseListingLine} does not take
 * (TAR_OUTPUT), or runs longer than `timeoutMs` (TAR_TIMEOUT).
 */
export async function listTarball(
  file: string,
  onMember: (member: TarMember) => void,
  opts: { timeoutMs: number },
): Promise<void> {
  const tar = execa(
    'tar',
    [
      '--list',
      '--verbose',
      '--absolute-names',
      '--numeric-owner',
      '--quoting-style=c',
      '--full-time',
      // A name with a colon is a remote archive to tar otherwise.
      '--force-local',
      '--file',
      file,
    ],
    {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C', TZ: 'UTC', TAR_OPTIONS: '' },
      extendEnv: false,
      stdin: 'ignore',
      buffer: false,
      reject: false,
      timeout: Math.max(1, Math.floor(opts.timeoutMs)),
      killSignal: 'SIGKILL',
    },
  );
  let stderr = '';
  tar.stderr!.on('data', (chunk: Buffer) => {
    if (stderr.length < MAX_STDERR) stderr += chunk.toString('utf8').slice(0, MAX_STDERR - stderr.length);
  });
  let stopped: unknown;
  const lines = readline.createInterface({ input: tar.stdout!, crlfDelay: Infinity });
  try {
    for await (const line of lines) {
      onMember(parseListingLine(line));
    }
  } catch (err) {
    stopped = err;
    tar.kill('SIGKILL');
  } finally {
    lines.close();
  }
  const result = await tar;
  if (stopped !== undefined) throw stopped;
  if (result.timedOut)
    throw new TarError('TAR_TIMEOUT', `tar did not finish listing it within ${Math.round(opts.timeoutMs / 1000)} s`);
  if (result.exitCode !== 0) {
    const said = stderr.trim().split('\n').slice(-3).join('; ');
    throw new TarError(
      'TAR_FAILED',
      `tar cannot read it (${result.exitCode === undefined ? `killed by ${result.signal}` : `exit ${result.exitCode}`}): ${said || 'no message'}`,
    );
  }
}
