// Batch progress: a redrawn bar on a terminal, plain lines (every 10%) when output is a pipe or log.
import { Writable } from 'node:stream';

export interface Progress {
  update(done: number, errors: number): void;
  finish(): void;
  /** Erases the bar (terminal only) so another line can be printed cleanly. */
  clear(): void;
  /** Draws the bar again after `clear()`. */
  redraw(): void;
}

export function createProgress(total: number, out: NodeJS.WriteStream = process.stdout): Progress {
  const started = Date.now();
  if (out.isTTY) {
    const width = 30;
    let line = '';
    let active = true;
    return {
      update(done, errors) {
        const filled = total ? Math.round((done / total) * width) : width;
        const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
        line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} tasks · ${errors} errors · ${rate.toFixed(1)} tasks/s`;
        out.write(`\r\x1b[K${line}`);
      },
      finish() {
        active = false;
        out.write('\n');
      },
      clear() {
        if (active && line) out.write('\r\x1b[K');
      },
      redraw() {
        if (active && line) out.write(line);
      },
    };
  }
  let lastDecile = -1;
  return {
    update(done, errors) {
      const decile = total ? Math.floor((done / total) * 10) : 10;
      if (decile === lastDecile && done !== total) return;
      lastDecile = decile;
      out.write(
        `progress: ${done}/${total} tasks (${total ? Math.round((done / total) * 100) : 100}%), ${errors} errors\n`,
      );
    },
    finish() {
      /* lines are complete already */
    },
    clear() {
      /* nothing drawn in place */
    },
    redraw() {
      /* nothing drawn in place */
    },
  };
}

/**
 * The log destination of the demo: passes lines to `target`, and while a progress bar is shown on
 * the same terminal, erases it before each line and redraws it after, so they never interleave.
 */
export class ProgressAwareStream extends Writable {
  progress: Progress | undefined;

  constructor(private readonly target: NodeJS.WritableStream = process.stderr) {
    super();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.progress?.clear();
    this.target.write(chunk, (err) => callback(err ?? null));
    this.progress?.redraw();
  }
}
