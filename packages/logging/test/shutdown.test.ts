import { PassThrough } from 'node:stream';
import { createLogger } from '../src';

// Services log lifecycle lines while shutting down (a health server's "stopped" after its hooks
// ran, one of which shut the logger down). Such a late line must be dropped, never crash.
test('a record logged after shutdown() is dropped instead of raising write-after-end', async () => {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d) => (text += d));
  const logger = createLogger({ format: 'json', destination: out });
  const errors: unknown[] = [];
  logger.on('error', (e) => errors.push(e));
  logger.info('before');
  await logger.shutdown();
  expect(() => logger.info('after')).not.toThrow();
  await new Promise((r) => setImmediate(r));
  expect(errors).toEqual([]);
  expect(
    text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).body),
  ).toEqual(['before']);
  await logger.shutdown(); // idempotent
});
