import { Writable } from 'node:stream';

/** A destination stream that keeps every line written to it. */
export function capture(): { stream: Writable; lines: string[]; json: () => Record<string, any>[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n')) if (l !== '') lines.push(l);
      cb();
    },
  });
  return { stream, lines, json: () => lines.map((l) => JSON.parse(l)) };
}

/** Lets winston's stream pipeline deliver what was logged. */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
