// Operator routes on the demo's caches, under /debug/ (the health server asks for the debug
// token): look an entry up, write one, or evict one everywhere — in this replica's tiers, in Redis
// and, through the cache's invalidation bus, in every other replica's L1. Values are never shown:
// a cached LLM reply is model output, which is not recorded unless explicitly enabled.
import { HttpError, readJsonBody, sendJson, type HealthServer } from '@periscope/health';
import type { Cache } from '@periscope/cache';
import type { Caches } from './wiring';

const MAX_KEY_CHARS = 256;
const MAX_VALUE_BYTES = 64 * 1024;

type CacheApiCode = 'ERR_DEMO_INVALID_PARAMETER' | 'ERR_DEMO_NOT_FOUND' | 'ERR_DEMO_INVALID_BODY';

export function addCacheRoutes(server: HealthServer, caches: Caches): void {
  const byName: Record<string, Cache> = { llm: caches.llmCache, embeddings: caches.embeddingCache };
  const target = (params: Record<string, string>): { cache: Cache; key: string } => {
    const cache = Object.hasOwn(byName, params.name) ? byName[params.name] : undefined;
    if (!cache)
      throw new HttpError<CacheApiCode>(
        404,
        `no cache named ${JSON.stringify(params.name.slice(0, 64))} (llm, embeddings)`,
        'ERR_DEMO_NOT_FOUND',
      );
    const key = params.key;
    if (key === '' || key.length > MAX_KEY_CHARS)
      throw new HttpError<CacheApiCode>(
        400,
        `path parameter "key" must be 1 to ${MAX_KEY_CHARS} characters`,
        'ERR_DEMO_INVALID_PARAMETER',
      );
    return { cache, key };
  };
  server.route('GET', '/debug/cache/:name/:key', async (_req, res, ctx) => {
    const { cache, key } = target(ctx.params);
    const found = (await cache.get(key)) !== undefined;
    sendJson(res, found ? 200 : 404, { cache: cache.namespace, key, found });
  });
  server.route('PUT', '/debug/cache/:name/:key', async (req, res, ctx) => {
    const { cache, key } = target(ctx.params);
    const body = await readJsonBody(req, { limitBytes: MAX_VALUE_BYTES });
    const value = (body as { value?: unknown } | null)?.value;
    if (typeof value !== 'string')
      throw new HttpError<CacheApiCode>(400, 'body must be {"value": "<string>"}', 'ERR_DEMO_INVALID_BODY');
    await cache.set(key, value);
    sendJson(res, 200, { cache: cache.namespace, key, stored: true });
  });
  server.route('DELETE', '/debug/cache/:name/:key', async (_req, res, ctx) => {
    const { cache, key } = target(ctx.params);
    await cache.delete(key);
    sendJson(res, 200, { cache: cache.namespace, key, deleted: true });
  });
}
