// Helpers for tests of the upload checks only (unit, integration and e2e); nothing else imports this.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';

/** One member of a tarball written by {@link writeTarball}. */
export interface TarMemberSpec {
  name: string;
  /** Default `file`. */
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'chardev' | 'blockdev' | 'fifo' | 'contiguous';
  /** Default 0644 (0755 for directories). */
  mode?: number;
  /** A file's content. */
  data?: string;
  /** A file of this many zero bytes, instead of `data`. */
  zeros?: number;
  /** A symlink's target or a hard link's member. */
  link?: string;
  /**
   * Writes only this member's header, declaring `declaredSize` bytes, and ends the archive there
   * (truncated, as a stream cut short): a header that claims gigabytes for a few bytes.
   */
  declaredSize?: number;
}

// Python's tarfile writes members no unprivileged tar can (device nodes, setuid files, absolute and
// "../" names) without touching the file system.
const WRITE_TARBALL = String.raw`
import bz2, gzip, io, json, lzma, sys, tarfile
class Zeros(io.RawIOBase):
    def __init__(self, n): self.n = n
    def readable(self): return True
    def readinto(self, b):
        k = min(len(b), self.n); b[:k] = bytes(k); self.n -= k; return k
spec = json.load(sys.stdin)
name = spec['file']
opener = {'gz': gzip.open, 'xz': lzma.open, 'bz2': bz2.open}.get(name.rsplit('.', 1)[-1])
out = opener(name, 'wb') if opener else open(name, 'wb')
tar = tarfile.open(fileobj=out, mode='w', format=tarfile.GNU_FORMAT)
types = {'file': tarfile.REGTYPE, 'dir': tarfile.DIRTYPE, 'symlink': tarfile.SYMTYPE,
         'hardlink': tarfile.LNKTYPE, 'chardev': tarfile.CHRTYPE, 'blockdev': tarfile.BLKTYPE,
         'fifo': tarfile.FIFOTYPE, 'contiguous': tarfile.CONTTYPE}
for m in spec['members']:
    info = tarfile.TarInfo(m['name'])
    info.type = types[m.get('type', 'file')]
    info.mode = m.get('mode', 0o755 if info.type == tarfile.DIRTYPE else 0o644)
    info.mtime = 1700000000
    info.linkname = m.get('link', '')
    if info.type in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        info.devmajor, info.devminor = 1, 3
    if 'declaredSize' in m:
        info.size = m['declaredSize']
        out.write(info.tobuf(tarfile.GNU_FORMAT, 'utf-8', 'surrogateescape'))
        out.close()
        sys.exit(0)
    data = m.get('data', '').encode()
    if 'zeros' in m:
        info.size = m['zeros']
        tar.addfile(info, io.BufferedReader(Zeros(info.size), 1 << 20))
    elif info.type in (tarfile.REGTYPE, tarfile.CONTTYPE):
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    else:
        tar.addfile(info)
tar.close()
out.close()
`;

/** Writes a tarball, compressed by its name (`.tar`, `.tar.gz`, `.tar.xz`, `.tar.bz2`). */
export async function writeTarball(file: string, members: TarMemberSpec[]): Promise<void> {
  await execa('python3', ['-c', WRITE_TARBALL], { input: JSON.stringify({ file, members }) });
}

/**
 * Writes `file` (.tar.xz) holding `<top>/bomb`, a sparse file of `size` bytes: a few hundred bytes of
 * tarball that declare (and would unpack to) gigabytes.
 */
export async function writeSparseBomb(file: string, size: number, top = 'bomb-1.0'): Promise<void> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-bomb-'));
  try {
    await fs.mkdir(path.join(dir, top));
    await fs.writeFile(path.join(dir, top, 'README'), 'nothing here\n');
    const handle = await fs.open(path.join(dir, top, 'bomb'), 'w');
    await handle.truncate(size);
    await handle.close();
    await execa('tar', ['--sparse', '--owner=0', '--group=0', '--numeric-owner', '-cJf', file, top], {
      cwd: dir,
      env: { LC_ALL: 'C' },
    });
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
