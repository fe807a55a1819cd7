// A small SMTP client (RFC 5321): EHLO, optional STARTTLS or implicit TLS, AUTH PLAIN, MAIL FROM,
// RCPT TO, DATA with dot-stuffing, QUIT. One connection per message, bounded by a timeout.
import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';

export interface SmtpOptions {
  host: string;
  port: number;
  /** Implicit TLS (port 465). Default false. */
  secure?: boolean;
  /** Upgrade with STARTTLS when the server offers it. Default true (unless `secure`). */
  startTls?: boolean;
  /** TLS: reject certificates that do not verify. Default true. */
  rejectUnauthorized?: boolean;
  user?: string;
  password?: string;
  /** Name sent in EHLO. Default the host name. */
  clientName?: string;
  /** Whole-transaction timeout. Default 10000 ms. */
  timeoutMs?: number;
}

export interface MailMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
}

class Conversation {
  private buffer = '';
  private waiting: ((reply: { code: number; text: string }) => void) | undefined;
  private failed: Error | undefined;
  private onFail: ((err: Error) => void) | undefined;

  constructor(public socket: net.Socket) {
    this.attach(socket);
  }

  attach(socket: net.Socket): void {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buffer += d;
      this.flush();
    });
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed by the server')));
  }

  fail(err: Error): void {
    this.failed ??= err;
    this.onFail?.(this.failed);
  }

  private flush(): void {
    if (this.waiting === undefined) return;
    const lines = this.buffer.split('\r\n');
    for (let i = 0; i < lines.length - 1; i++) {
      if (/^\d{3} /.test(lines[i]) || /^\d{3}$/.test(lines[i])) {
        const text = lines.slice(0, i + 1).join('\n');
        this.buffer = lines.slice(i + 1).join('\r\n');
        const w = this.waiting;
        this.waiting = undefined;
        w({ code: Number(lines[i].slice(0, 3)), text });
        return;
      }
    }
    if (this.buffer.length > 64 * 1024) this.fail(new Error('SMTP reply too long'));
  }

  read(): Promise<{ code: number; text: string }> {
    return new Promise((resolve, reject) => {
      if (this.failed) return reject(this.failed);
      this.onFail = reject;
      this.waiting = resolve;
      this.flush();
    });
  }

  async command(line: string | undefined, expect: number[], what: string): Promise<string> {
    if (line !== undefined) this.socket.write(`${line}\r\n`);
    const reply = await this.read();
    if (!expect.includes(reply.code)) throw new Error(`SMTP ${what} refused: ${reply.text.slice(0, 200)}`);
    return reply.text;
  }
}

function connect(options: SmtpOptions): net.Socket {
  if (options.secure)
    return tls.connect({
      host: options.host,
      port: options.port,
      servername: options.host,
      rejectUnauthorized: options.rejectUnauthorized ?? true,
    });
  return net.connect({ host: options.host, port: options.port });
}

function encodeHeader(value: string): string {
  return /^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value).toString('base64')}?=`;
}

/** RFC 5322 message with CRLF line ends and leading dots doubled (DATA transparency). */
export function formatMessage(msg: MailMessage, now = new Date()): string {
  const headers = [
    `From: ${msg.from}`,
    `To: ${msg.to.join(', ')}`,
    `Subject: ${encodeHeader(msg.subject.replace(/[\r\n]+/g, ' '))}`,
    `Date: ${now.toUTCString()}`,
    `Message-ID: <${now.getTime()}.${Math.random().toString(36).slice(2)}@periscope>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
  ];
  const body = msg.text.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
  return `${headers.join('\r\n')}\r\n\r\n${body}\r\n`;
}

async function transact(conv: Conversation, options: SmtpOptions, msg: MailMessage): Promise<void> {
  const name = options.clientName ?? os.hostname();
  await conv.command(undefined, [220], 'greeting');
  let ehlo = await conv.command(`EHLO ${name}`, [250], 'EHLO');
  if (!options.secure && (options.startTls ?? true) && /^250[- ]STARTTLS/im.test(ehlo)) {
    await conv.command('STARTTLS', [220], 'STARTTLS');
    const upgraded = tls.connect({
      socket: conv.socket,
      servername: options.host,
      rejectUnauthorized: options.rejectUnauthorized ?? true,
    });
    conv.socket.removeAllListeners('data');
    conv.socket.removeAllListeners('close');
    conv.attach(upgraded);
    await new Promise<void>((resolve, reject) => {
      upgraded.once('secureConnect', () => resolve());
      upgraded.once('error', reject);
    });
    ehlo = await conv.command(`EHLO ${name}`, [250], 'EHLO');
  }
  if (options.user !== undefined) {
    const token = Buffer.from(`\u0000${options.user}\u0000${options.password ?? ''}`).toString('base64');
    await conv.command(`AUTH PLAIN ${token}`, [235], 'AUTH');
  }
  await conv.command(`MAIL FROM:<${msg.from}>`, [250], 'MAIL FROM');
  for (const to of msg.to) await conv.command(`RCPT TO:<${to}>`, [250, 251], `RCPT TO ${to}`);
  await conv.command('DATA', [354], 'DATA');
  await conv.command(`${formatMessage(msg)}.`, [250], 'message');
  conv.socket.write('QUIT\r\n');
}

/** Sends one message; rejects with the server's refusal or a timeout. */
export async function sendMail(options: SmtpOptions, msg: MailMessage, signal?: AbortSignal): Promise<void> {
  for (const addr of [msg.from, ...msg.to])
    if (/[\r\n<>]/.test(addr)) throw new Error(`invalid mail address ${JSON.stringify(addr.slice(0, 80))}`);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const conv = new Conversation(connect(options));
  const timer = setTimeout(
    () => conv.fail(new Error(`SMTP ${options.host}:${options.port}: no completion within ${timeoutMs} ms`)),
    timeoutMs,
  );
  const onAbort = () => conv.fail(new Error('aborted'));
  signal?.addEventListener('abort', onAbort);
  try {
    await transact(conv, options, msg);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    conv.socket.end();
    conv.socket.destroy();
  }
}
