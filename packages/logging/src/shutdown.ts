// logger.shutdown(): closes audit logs, ends the logger (winston ends every transport and waits
// for each one's 'finish'; the destination transport ends its stream and waits for the stream's
// 'finish'), so every line logged before shutdown() is in the file when it resolves. The whole is bounded: a
// referenced timer settles it after `timeoutMs` whatever a transport does (no unref'd timer that
// lets the process exit with an unsettled promise), and what did not finish is named on stderr.
import type winston from 'winston';
import type TransportStream from 'winston-transport';
import type { AuditLogger } from './audit';
import { HttpLogTransport } from './shipping';
import type { WinstonInfo } from './record';

export interface ShutdownTargets {
  logger: winston.Logger;
  audits: Iterable<AuditLogger>;
  timeoutMs: number;
  /** Called for each record logged after shutdown began (dropped and counted, never an error). */
  late: (info: WinstonInfo) => void;
}

function endLogger(logger: winston.Logger, late: (info: WinstonInfo) => void): Promise<void> {
  return new Promise((resolve) => {
    // 'finish' fires once every transport has emitted its own 'finish' (winston's _final ends them).
    logger.once('finish', () => resolve());
    logger.end();
    // A record logged after shutdown (a late lifecycle line) is dropped, not a 'write after end' crash.
    logger.write = ((info: WinstonInfo) => {
      late(info);
      return true;
    }) as typeof logger.write;
  });
}

function nameOf(t: TransportStream): string {
  const named = (t as { name?: unknown }).name;
  return typeof named === 'string' && named !== '' ? named : t.constructor.name;
}

export async function shutdownLogger(t: ShutdownTargets): Promise<void> {
  const transports = [...t.logger.transports];
  const work = (async () => {
    await Promise.all([...t.audits].map((a) => a.close()));
    await endLogger(t.logger, t.late);
    return true;
  })();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), t.timeoutMs);
  });
  const finished = await Promise.race([work, deadline]);
  clearTimeout(timer);
  if (!finished) {
    const pending = transports.filter((x) => !x.writableFinished).map(nameOf);
    const shippers = transports.filter((x): x is HttpLogTransport => x instanceof HttpLogTransport);
    for (const x of shippers) x.abort();
    // Aborted, they settle at once: their own line says how many records they could not deliver.
    await Promise.all(shippers.map((x) => x.shutdown()));
    process.stderr.write(
      `@periscope/logging: shutdown did not finish within ${t.timeoutMs} ms; still flushing: ${pending.join(', ') || 'audit logs'} (their unwritten records are lost)\n`,
    );
  }
  try {
    t.logger.close();
  } catch {
    // closing after a timeout is best effort; the outcome was reported above
  }
}
