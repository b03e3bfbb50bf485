/**
 * A real local SMTP server for the notification tests: Debian's python3-aiosmtpd with its Mailbox
 * handler, delivering into a Maildir that `messages()` reads back through Python's email parser.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { execa, type ResultPromise } from 'execa';
import { eventually } from './daemon.js';
import { freePort } from './postgres.js';

export interface ReceivedMail {
  file: string;
  from: string;
  to: string;
  subject: string;
  /** The text/plain part, decoded. */
  text: string;
  attachments: { filename: string; contentType: string; content: string }[];
}

/** Debian's interpreter, where python3-aiosmtpd is installed (not whatever python3 is first on PATH). */
const PYTHON = '/usr/bin/python3';

const READ_MAILDIR = `
import email, email.policy, json, mailbox, sys
out = []
for key, msg in mailbox.Maildir(sys.argv[1], create=False).items():
    m = email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)
    body = m.get_body(preferencelist=('plain',))
    out.append({
        'file': key,
        'from': str(m['from']), 'to': str(m['to']), 'subject': str(m['subject']),
        'text': body.get_content() if body else '',
        'attachments': [{'filename': a.get_filename(), 'contentType': a.get_content_type(),
                         'content': a.get_content() if isinstance(a.get_content(), str) else a.get_content().decode()}
                        for a in m.iter_attachments()],
    })
print(json.dumps(out))
`;

export class LocalSmtp {
  private proc: ResultPromise | null = null;

  private constructor(
    readonly port: number,
    readonly maildir: string,
  ) {}

  static async start(): Promise<LocalSmtp> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'debyard-smtp-'));
    const smtp = new LocalSmtp(await freePort(), path.join(dir, 'Maildir'));
    await smtp.resume();
    return smtp;
  }

  get url(): string {
    return `smtp://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port and Maildir. */
  async resume(): Promise<void> {
    this.proc = execa(
      PYTHON,
      ['-m', 'aiosmtpd', '-n', '-l', `127.0.0.1:${this.port}`, '-c', 'aiosmtpd.handlers.Mailbox', this.maildir],
      { reject: false, stdin: 'ignore' },
    );
    await eventually(() => accepts(this.port), 10_000);
  }

  /** Stops the server: connections are refused until `resume`. */
  async pause(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    proc?.kill('SIGTERM');
    await proc;
  }

  async messages(): Promise<ReceivedMail[]> {
    if (!(await fs.stat(path.join(this.maildir, 'new')).catch(() => null))) return [];
    const r = await execa(PYTHON, ['-c', READ_MAILDIR, this.maildir]);
    return JSON.parse(r.stdout) as ReceivedMail[];
  }

  /** Waits for a message that `match` picks. */
  waitFor(match: (m: ReceivedMail) => boolean, timeoutMs = 15_000): Promise<ReceivedMail> {
    return eventually(async () => (await this.messages()).find(match), timeoutMs);
  }

  async dispose(): Promise<void> {
    await this.pause();
    await fs.rm(path.dirname(this.maildir), { recursive: true, force: true });
  }
}

function accepts(port: number): Promise<true | undefined> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(undefined));
  });
}
