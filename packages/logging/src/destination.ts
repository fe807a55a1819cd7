// The transport behind `destination`: writes each formatted line to the stream, and on the
// logger's end ends the stream and waits for its 'finish' (winston's 'finish' then waits for it),
// so shutdown() resolves only once every line is written. Lighter than winston's Stream transport
// on the hot path: 'logged' is emitted at once instead of through one setImmediate per record.
import os from 'node:os';
import type { Writable } from 'node:stream';
import TransportStream from 'winston-transport';
import { MESSAGE, type WinstonInfo } from './record';

const EOL = os.EOL;

/** Ends a stream and resolves on its 'finish' (or 'close'/'error'); stdout/stderr are flushed, never ended. */
export function endStream(stream: NodeJS.WritableStream): Promise<void> {
  const w = stream as Writable;
  return new Promise((resolve) => {
    if (w === process.stdout || w === process.stderr) {
      w.write('', () => resolve());
      return;
    }
    if (w.writableFinished || w.destroyed) {
      resolve();
      return;
    }
    w.once('finish', () => resolve());
    w.once('close', () => resolve());
    w.on('error', () => resolve());
    w.end();
  });
}

export class DestinationTransport extends TransportStream {
  readonly name = 'destination';
  readonly stream: NodeJS.WritableStream;

  constructor(stream: NodeJS.WritableStream) {
    super();
    this.stream = stream;
  }

  override log(info: WinstonInfo, next: () => void): void {
    this.stream.write(`${info[MESSAGE]}${EOL}`);
    this.emit('logged', info);
    next();
  }

  override _final(callback: (error?: Error | null) => void): void {
    endStream(this.stream).then(
      () => callback(),
      () => callback(),
    );
  }
}
