import express from 'express';
import { createHealthServer } from '../../src';
import { periscopeExpress } from '../../src/frameworks/express';
import { sleep } from '../helpers';
import { SECRET, frameworkSuite } from './suite';

frameworkSuite('express', async ({ health, logger }) => {
  const periscope = periscopeExpress({ health });
  const app = express();
  app.use(periscope.middleware);
  app.use(express.json());
  app.get('/tasks/:id', (req, res) => {
    res.json({ id: req.params.id });
  });
  app.get('/boom', () => {
    throw new Error(SECRET);
  });
  app.post('/work', async (_req, res) => {
    logger.info('work received');
    await sleep(20);
    logger.info('work done');
    res.json({ ok: true });
  });
  app.get('/sse', (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let i = 0;
    const timer = setInterval(() => {
      res.write(`data: ${i}\n\n`);
      if (++i === 3) {
        clearInterval(timer);
        res.end();
      }
    }, 100);
  });
  app.get('/slow', async (req, res) => {
    await sleep(Number(req.query.ms));
    res.send('done');
  });
  app.use(periscope.errorHandler);
  const server = periscope.attach(app.listen(0, '127.0.0.1'));
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const address = server.address() as { port: number };
  return { url: `http://127.0.0.1:${address.port}`, server, handler: app, close: () => periscope.close() };
});

describe('periscopeExpress options', () => {
  test('a missing health server or an unknown option fails at setup, naming the option', () => {
    expect(() => periscopeExpress({} as never)).toThrow(/invalid periscopeExpress: health: expected a HealthServer/);
    const health = createHealthServer({ port: 0, metrics: false, env: {} });
    expect(() => periscopeExpress({ health, probe: false } as never)).toThrow(
      /invalid periscopeExpress: probe: expected one of health, metrics, probes/,
    );
  });
});
