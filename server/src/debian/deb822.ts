/**
 * The one deb822 parser (Debian Policy §5.1): .changes, .dsc, Release, Packages, sources.
 *
 * Decisions, in the order a reader meets them:
 * - Input is UTF-8. Bytes that are not valid UTF-8, a byte order mark, NUL and other C0 control
 *   characters but TAB are errors: none belong in a control file, and they hide things from people
 *   reading logs and mails.
 * - Line endings are LF only. A CR anywhere (CRLF or old-Mac CR) is an error rather than normalised,
 *   as dak does for uploads: a signature covers the bytes, and a file that only parses after
 *   rewriting is not the file that was signed.
 * - Lines that start with `#` are comments and skipped wherever they are, also between continuation
 *   lines (as dpkg does).
 * - Paragraphs are separated by one or more empty lines; lines of only spaces and tabs count as empty.
 * - Field names are case-insensitive (`get('source')` finds `Source`) and kept as written, in order.
 *   Allowed characters per Policy: `[!-9;-~]+`, not starting with `#` or `-`.
 * - Values are strings. The first line is trimmed; each continuation line loses its first character
 *   (the space or tab that marks it) and trailing blanks; ` .` stands for an empty line. Lines are
 *   joined with `\n`, so `Files:` followed by continuation lines gives a value starting with `\n`
 *   (use {@link Paragraph.lines} for list-like fields).
 */

export type Deb822ErrorCode = 'DEB822_SYNTAX' | 'DEB822_ENCODING';

export class Deb822Error extends Error {
  override readonly name = 'Deb822Error';
  constructor(
    readonly code: Deb822ErrorCode,
    message: string,
    /** 1-based line the problem is on, when there is one. */
    readonly line?: number,
  ) {
    super(message);
  }
}

export interface Deb822Options {
  /** Names the input in error messages, e.g. `hello_1.0_amd64.changes`. */
  source?: string;
}

interface Field {
  name: string;
  value: string;
  line?: number;
}

const FIELD_NAME = /^[!-9;-~]+$/;
const FIELD_LINE = /^([!-9;-~]+):(.*)$/;
// C0 controls but TAB and LF, and DEL; CR is reported separately.
const CONTROL_CHAR = /[\x00-\x08\x0b-\x1f\x7f]/; // eslint-disable-line no-control-regex

/** One deb822 paragraph: fields in the order written, looked up case-insensitively. */
export class Paragraph implements Iterable<[string, string]> {
  private readonly fields = new Map<string, Field>();

  /** Builds a paragraph from plain fields; throws DEB822_SYNTAX for invalid or duplicate names. */
  static from(fields: Record<string, string> | Iterable<[string, string]>): Paragraph {
    const paragraph = new Paragraph();
    const entries = Symbol.iterator in fields ? fields : Object.entries(fields);
    for (const [name, value] of entries as Iterable<[string, string]>) {
      checkFieldName(name);
      if (paragraph.has(name)) throw new Deb822Error('DEB822_SYNTAX', `duplicate field ${name}`);
      paragraph.set(name, value);
    }
    return paragraph;
  }

  get size(): number {
    return this.fields.size;
  }

  get(name: string): string | undefined {
    return this.fields.get(name.toLowerCase())?.value;
  }

  has(name: string): boolean {
    return this.fields.has(name.toLowerCase());
  }

  /** Sets a field; an existing field keeps its place and the spelling of its name. */
  set(name: string, value: string): this {
    const key = name.toLowerCase();
    const existing = this.fields.get(key);
    if (existing) existing.value = value;
    else this.fields.set(key, { name, value });
    return this;
  }

  delete(name: string): boolean {
    return this.fields.delete(name.toLowerCase());
  }

  /** The value's non-empty lines, e.g. the entries of `Files` or `Checksums-Sha256`. */
  lines(name: string): string[] {
    const value = this.get(name);
    return value === undefined ? [] : value.split('\n').filter((l) => l.trim() !== '');
  }

  /** The line the field was parsed from, for error messages. */
  lineOf(name: string): number | undefined {
    return this.fields.get(name.toLowerCase())?.line;
  }

  /** Field names as written, in order. */
  names(): string[] {
    return [...this.fields.values()].map((f) => f.name);
  }

  *entries(): IterableIterator<[string, string]> {
    for (const f of this.fields.values()) yield [f.name, f.value];
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  toObject(): Record<string, string> {
    return Object.fromEntries(this.entries());
  }

  /** @internal used by the parser to remember where a field came from. */
  addParsed(name: string, value: string, line: number): void {
    this.fields.set(name.toLowerCase(), { name, value, line });
  }
}

function where(opts: Deb822Options | undefined, line: number): string {
  return `${opts?.source ?? 'deb822'}:${line}`;
}

function checkFieldName(name: string): void {
  if (!FIELD_NAME.test(name) || name.startsWith('#') || name.startsWith('-')) {
    throw new Deb822Error('DEB822_SYNTAX', `invalid field name ${JSON.stringify(name)}`);
  }
}

function decode(input: string | Uint8Array, opts?: Deb822Options): string {
  if (typeof input === 'string') return input;
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(input);
  } catch {
    throw new Deb822Error('DEB822_ENCODING', `${opts?.source ?? 'deb822'}: not valid UTF-8`);
  }
}

/**
 * Parses deb822 text into paragraphs; empty input (or only comments and blank lines) gives `[]`.
 * Throws {@link Deb822Error} with the line number for anything that is not deb822.
 */
export function parseDeb822(input: string | Uint8Array, opts?: Deb822Options): Paragraph[] {
  const text = decode(input, opts);
  const paragraphs: Paragraph[] = [];
  let current: Paragraph | undefined;
  // The field continuation lines add to, and its lines so far.
  let open: { name: string; lines: string[]; line: number } | undefined;

  const closeField = () => {
    if (open && current) current.addParsed(open.name, open.lines.join('\n'), open.line);
    open = undefined;
  };
  const closeParagraph = () => {
    closeField();
    if (current) paragraphs.push(current);
    current = undefined;
  };

  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const line = lines[i]!;
    const fail = (message: string): never => {
      throw new Deb822Error('DEB822_SYNTAX', `${where(opts, lineNo)}: ${message}`, lineNo);
    };

    if (i === 0 && line.startsWith('\ufeff')) fail('starts with a byte order mark; save the file as UTF-8 without BOM');
    const cr = line.indexOf('\r');
    if (cr >= 0) {
      fail(
        cr === line.length - 1
          ? 'CRLF line ending; deb822 files use LF only'
          : 'carriage return inside a line; deb822 files use LF line endings only',
      );
    }
    const control = CONTROL_CHAR.exec(line);
    if (control) {
      const code = control[0].charCodeAt(0).toString(16).padStart(4, '0').toUpperCase();
      fail(`control character U+${code}${code === '0000' ? ' (NUL)' : ''} is not allowed`);
    }

    if (line.startsWith('#')) continue;
    if (/^[ \t]*$/.test(line)) {
      closeParagraph();
      continue;
    }

    if (line[0] === ' ' || line[0] === '\t') {
      if (!open) fail('continuation line (starts with a space or tab) before any field of its paragraph');
      const content = line.slice(1).replace(/[ \t]+$/, '');
      open!.lines.push(content === '.' ? '' : content);
      continue;
    }

    const field = FIELD_LINE.exec(line);
    if (!field || field[1]!.startsWith('-')) {
      const shown = line.length > 60 ? `${line.slice(0, 60)}…` : line;
      fail(`expected "Field: value" or a continuation line, got ${JSON.stringify(shown)}`);
    }
    const name = field![1]!;
    closeField();
    current ??= new Paragraph();
    const earlier = current.lineOf(name);
    if (earlier !== undefined) {
      fail(`duplicate field ${name} (first at line ${earlier})`);
    }
    open = { name, lines: [field![2]!.trim()], line: lineNo };
    // Reserve the name now so a duplicate is caught even before the first field is closed.
    current.addParsed(name, '', lineNo);
  }
  closeParagraph();
  return paragraphs;
}

/** Parses text that must hold exactly one paragraph, e.g. a .changes or .dsc. */
export function parseSingleParagraph(input: string | Uint8Array, opts?: Deb822Options): Paragraph {
  const paragraphs = parseDeb822(input, opts);
  if (paragraphs.length !== 1) {
    const second = paragraphs[1]?.lineOf(paragraphs[1].names()[0]!);
    throw new Deb822Error(
      'DEB822_SYNTAX',
      paragraphs.length === 0
        ? `${opts?.source ?? 'deb822'}: no fields found`
        : `${where(opts, second!)}: expected one paragraph, found ${paragraphs.length}`,
      second,
    );
  }
  return paragraphs[0]!;
}

/**
 * Writes paragraphs as deb822, the inverse of {@link parseDeb822}: `Name: value`, continuation lines
 * with one leading space, empty lines as ` .`, paragraphs separated by one empty line.
 */
export function formatDeb822(paragraphs: Iterable<Record<string, string> | Paragraph>): string {
  const out: string[] = [];
  for (const item of paragraphs) {
    const paragraph = item instanceof Paragraph ? item : Paragraph.from(item);
    if (paragraph.size === 0) continue;
    const lines: string[] = [];
    for (const [name, value] of paragraph) {
      checkFieldName(name);
      if (value.includes('\r') || CONTROL_CHAR.test(value)) {
        throw new Deb822Error('DEB822_SYNTAX', `field ${name}: CR or control characters cannot be written`);
      }
      const [first, ...rest] = value.split('\n');
      lines.push(first === '' ? `${name}:` : `${name}: ${first}`);
      for (const l of rest) {
        if (l === '.') throw new Deb822Error('DEB822_SYNTAX', `field ${name}: a line "." cannot be written`);
        lines.push(l.trim() === '' ? ' .' : ` ${l}`);
      }
    }
    out.push(lines.join('\n') + '\n');
  }
  return out.join('\n');
}
