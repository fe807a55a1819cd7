import Fastify from 'fastify';
import { periscopeFastify } from '../../src/frameworks/fastify';
import { sleep } from '../helpers';
import { SECRET, frameworkSuite } from './suite';

frameworkSuite('fastify', async ({ health, logger }) => {
  const app = Fastify();
  const periscope = periscopeFastify(app, { health });
  app.get<{ Params: { id: string } }>('/tasks/:id', async (request) => ({ id: request.params.id }));
  app.get('/boom', async () => {
    throw new Error(SECRET);
  });
  app.post('/work', async () => {
    logger.info('work received');
    await sleep(20);
    logger.info('work done');
    return { ok: true };
  });
  app.get('/sse', (_request, reply) => {
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/event-stream' });
    let i = 0;
    const timer = setInterval(() => {
      reply.raw.write(`data: ${i}\n\n`);
      if (++i === 3) {
        clearInterval(timer);
        reply.raw.end();
      }
    }, 100);
  });
  app.get<{ Querystring: { ms: string } }>('/slow', async (request) => {
    await sleep(Number(request.query.ms));
    return 'done';
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, server: app.server, handler: (req, res) => app.routing(req, res), close: () => periscope.close() };
});
