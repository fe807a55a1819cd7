// Batch progress: a redrawn bar on a terminal, plain lines (every 10%) when output is a pipe or log.
export interface Progress {
  update(done: number, errors: number): void;
  finish(): void;
}

export function createProgress(total: number, out: NodeJS.WriteStream = process.stdout): Progress {
  const started = Date.now();
  if (out.isTTY) {
    const width = 30;
    return {
      update(done, errors) {
        const filled = total ? Math.round((done / total) * width) : width;
        const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
        out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} tasks · ${errors} errors · ${rate.toFixed(1)} tasks/s `);
      },
      finish() {
        out.write('\n');
      },
    };
  }
  let lastDecile = -1;
  return {
    update(done, errors) {
      const decile = total ? Math.floor((done / total) * 10) : 10;
      if (decile === lastDecile && done !== total) return;
      lastDecile = decile;
      out.write(`progress: ${done}/${total} tasks (${total ? Math.round((done / total) * 100) : 100}%), ${errors} errors\n`);
    },
    finish() {
      /* lines are complete already */
    },
  };
}
