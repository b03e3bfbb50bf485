import fs from 'node:fs';
import { execa } from 'execa';

/** The tail of a tool's output that error messages quote. */
const TAIL_LINES = 60;

export interface ToolResult {
  exitCode: number;
  /** The last lines of stdout and stderr together, in arrival order. */
  tail: string[];
}

/**
 * The log of one chroot operation (`<data>/chroots/<key>.log`): truncated when the operation starts,
 * then every line the tools print is appended as it arrives, so the console and the CLI can follow it.
 */
export class ChrootLog {
  private constructor(
    readonly file: string,
    private readonly fd: number,
  ) {}

  static open(file: string, header: string): ChrootLog {
    const fd = fs.openSync(file, 'w', 0o644);
    const log = new ChrootLog(file, fd);
    log.line(header);
    return log;
  }

  line(text: string): void {
    this.write(`${text}\n`);
  }

  write(chunk: string | Uint8Array): void {
    try {
      if (typeof chunk === 'string') fs.writeSync(this.fd, chunk);
      else fs.writeSync(this.fd, chunk);
    } catch {
      // A full disk must not turn a working chroot operation into a failed one.
    }
  }

  close(): void {
    fs.closeSync(this.fd);
  }

  /** Runs a tool with an argv array; its output goes into the log as it comes. Never throws for an exit code. */
  async run(
    file: string,
    args: string[],
    opts: { input?: Uint8Array; env?: Record<string, string> } = {},
  ): Promise<ToolResult> {
    this.line(`$ ${[file, ...args].map(quote).join(' ')}`);
    const tail: string[] = [];
    let partial = '';
    const take = (chunk: Buffer) => {
      this.write(chunk);
      const lines = (partial + chunk.toString('utf8')).split('\n');
      partial = lines.pop() ?? '';
      tail.push(...lines.map((l) => l.replace(/\r/g, '')).filter(Boolean));
      if (tail.length > TAIL_LINES) tail.splice(0, tail.length - TAIL_LINES);
    };
    const child = execa(file, args, {
      reject: false,
      cwd: '/',
      stdin: opts.input ? undefined : 'ignore',
      input: opts.input,
      env: opts.env,
      buffer: false,
    });
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    const result = await child;
    if (partial) tail.push(partial);
    return { exitCode: result.exitCode ?? -1, tail };
  }
}

function quote(arg: string): string {
  return /^[A-Za-z0-9_./:=,+@%-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * What went wrong, from a tool's output: its first two `E:` lines (apt, mmdebstrap, schroot and the
 * helper all use them; the first is the most specific, e.g. apt's "Failed to fetch <URL> 404"), else
 * its last lines.
 */
export function failureReason(tail: string[]): string {
  const errors = [...new Set(tail.filter((l) => /^(E|sudo|schroot): /.test(l)).map((l) => l.trim()))];
  const picked = errors.length ? errors.slice(0, 2) : tail.slice(-3).map((l) => l.trim());
  return picked.join('; ') || 'no output';
}
