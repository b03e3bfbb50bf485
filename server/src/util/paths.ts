import path from 'node:path';

/** dak's `re_file_safe`: the only file names debyard accepts from outside. */
export const SAFE_FILE_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.~+-]*$/;
const MAX_FILE_NAME_LENGTH = 255;

export class UnsafePathError extends Error {
  override readonly name = 'UnsafePathError';
  readonly code = 'UNSAFE_PATH';
}

/**
 * Checks a single file name that came from outside (FTP, HTTP, a .changes file) and returns it.
 * Throws an UnsafePathError that says what is wrong with it.
 */
export function checkFileName(name: string): string {
  if (name.length === 0) throw new UnsafePathError('the file name is empty');
  if (name.length > MAX_FILE_NAME_LENGTH)
    throw new UnsafePathError(`the file name is longer than ${MAX_FILE_NAME_LENGTH} characters`);
  if (name.includes('/') || name.includes('\\'))
    throw new UnsafePathError(`"${printable(name)}" contains a directory separator; upload plain file names only`);
  if (!SAFE_FILE_NAME.test(name))
    throw new UnsafePathError(
      `"${printable(name)}" is not a safe file name: use letters, digits and _.~+- only, starting with a letter or digit`,
    );
  return name;
}

/**
 * Resolves `relative` under `root` and returns the absolute path, refusing anything that would leave
 * `root` ("..", absolute paths, NUL bytes). Every path from outside goes through here.
 */
export function containedPath(root: string, relative: string): string {
  if (relative.includes('\0')) throw new UnsafePathError('the path contains a NUL byte');
  const base = path.resolve(root);
  const full = path.resolve(base, relative.replace(/^\/+/, ''));
  const rel = path.relative(base, full);
  if (rel.startsWith('..') || path.isAbsolute(rel))
    throw new UnsafePathError(`"${printable(relative)}" points outside ${base}`);
  return full;
}

function printable(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}
