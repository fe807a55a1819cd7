// The demo's LLM reply cache on a real Redis, as two replicas would use it: two independent caches
// (own L1, own L3 directory, own Redis connections), the demo's chat seam on each.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NOOP_LOGGER } from '@periscope/core';
import { createMetrics } from '@periscope/metrics';
import { redisUrl } from '@periscope-tools/testing';
import { cachedChat, createCaches, type Caches } from '../src/wiring';
import { SimulatedProvider } from '../src/llm/simulated';
import type { ChatRequest, ChatResult } from '../src/llm/provider';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-llm-cache-'));
const seed = Math.floor(Math.random() * 2 ** 30);
const provider = new SimulatedProvider({ seed, latencyScale: 0 });
const replicas: Caches[] = [];

async function replica(name: string, url: string): Promise<Caches> {
  const metrics = createMetrics();
  const notices: string[] = [];
  const caches = await createCaches(
    { metrics, logger: NOOP_LOGGER },
    { redisUrl: url },
    { PERISCOPE_DEMO_CACHE_DIR: path.join(dir, name) },
    notices,
  );
  replicas.push(caches);
  return caches;
}

afterAll(async () => {
  await Promise.all(replicas.flatMap((c) => [c.llmCache.close(), c.embeddingCache.close()]));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('identical concurrent conversations on two replicas cost one LLM call', async () => {
  const [a, b] = await Promise.all([replica('a', redisUrl()), replica('b', redisUrl())]);
  const config = { provider: 'sim' as const, seed };
  const chatA = cachedChat(config, provider, a.llmCache);
  const chatB = cachedChat(config, provider, b.llmCache);
  const request: ChatRequest = { messages: [{ role: 'user', content: `single flight ${randomUUID()}` }] };
  let calls = 0;
  // Slow enough that the second replica asks while the first is still waiting for the model.
  const call = async (): Promise<ChatResult> => {
    calls++;
    await new Promise((r) => setTimeout(r, 500));
    return provider.chat(request);
  };
  const [ra, rb] = await Promise.all([chatA(request, call), chatB(request, call)]);
  expect(calls).toBe(1);
  expect(rb).toEqual(ra);
  const factory = (c: Caches) => c.llmCache.stats().factory;
  expect(factory(a).calls + factory(b).calls).toBe(1);
  // The other replica waited on the lock, then read the reply from Redis.
  expect(factory(a).distributedWaits + factory(b).distributedWaits).toBe(1);

  // Later, the same conversation on either replica is a hit, no call.
  await chatB(request, call);
  await chatA(request, call);
  expect(calls).toBe(1);
}, 60_000);

test('without Redis the caches run on L1 + L3 (no lock), and say so', async () => {
  const notices: string[] = [];
  const caches = await createCaches(
    { metrics: createMetrics(), logger: NOOP_LOGGER },
    { redisUrl: '' },
    { PERISCOPE_DEMO_CACHE_DIR: path.join(dir, 'no-redis') },
    notices,
  );
  replicas.push(caches);
  expect(caches.llmCache.stats().l2).toBeUndefined();
  const chat = cachedChat({ provider: 'sim', seed }, provider, caches.llmCache);
  const request: ChatRequest = { messages: [{ role: 'user', content: `local ${randomUUID()}` }] };
  let calls = 0;
  const call = () => {
    calls++;
    return provider.chat(request);
  };
  await Promise.all([chat(request, call), chat(request, call)]);
  expect(calls).toBe(1);
  expect(notices.join('\n')).toMatch(/^cache: /m);
});
