// Workloads of the overhead bench: CPU-bound iterations, HTTP requests through node:http with a
// local keep-alive client, and async/GC-heavy iterations. Each returns operations done.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export function cpuIteration(seed: number): number {
  let x = seed;
  for (let i = 0; i < 2000; i++) x = (x * 1103515245 + 12345 + Math.sqrt(i)) % 2147483647;
  return x + JSON.stringify({ x, list: [1, 2, 3] }).length;
}

export async function asyncGcIteration(seed: number): Promise<number> {
  let total = 0;
  for (let i = 0; i < 20; i++) {
    const batch = Array.from({ length: 50 }, (_, k) => ({ id: seed + k, name: `item-${k}`, tags: [k, k + 1] }));
    await Promise.resolve();
    total += batch.reduce((a, b) => a + b.tags.length, 0);
  }
  await new Promise<void>((r) => setImmediate(r));
  return total;
}

export interface HttpRig {
  /** Runs `concurrency` client loops until `until`; returns per-request latencies (ms). */
  run(untilMs: number, concurrency: number): Promise<number[]>;
  close(): Promise<void>;
}

export async function startHttpRig(): Promise<HttpRig> {
  const server = http.createServer((req, res) => {
    const body = JSON.stringify({ ok: true, path: req.url, items: Array.from({ length: 20 }, (_, i) => i * 2) });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
  const once = () =>
    new Promise<void>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/work', agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
    });
  return {
    async run(until, concurrency) {
      const latencies: number[] = [];
      const loop = async () => {
        while (performance.now() < until) {
          const t0 = performance.now();
          await once();
          latencies.push(performance.now() - t0);
        }
      };
      await Promise.all(Array.from({ length: concurrency }, loop));
      return latencies;
    },
    async close() {
      agent.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Source of `n` small distinct functions and an array of them. */
export function generatedSource(n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(`function g${i}(x){return (x*${i % 97}+${i})|0}`);
  parts.push(`module.exports=[${Array.from({ length: n }, (_, i) => `g${i}`).join(',')}];`);
  return parts.join('\n');
}
