// OTLP push against a Prometheus scrape of the same registry: one push() (collect, protobuf
// encode, POST to a local receiver that reads the whole body) vs one expose() (text rendering), at
// 1k and 10k counter series plus 100 histogram series, interleaved. Both run on the event loop:
// this is how long a push holds it compared with a scrape.
// Run: npx tsc -p packages/metrics/tsconfig.build.json && npx tsx packages/metrics/bench/otlp.bench.ts
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { compare, machineLine } from '@periscope-tools/bench';

// The shipped build, not the sources under tsx: what users run is what is measured.
const { createMetrics, startOtlpPush } = createRequire(__filename)('../dist/index.js') as typeof import('../src');

function registry(series: number) {
  const m = createMetrics({ exemplars: false, maxSeriesPerMetric: 20_000 });
  const c = m.counter({ name: 'req_total', help: 'Requests', labelNames: ['route', 'status'] as const });
  for (let i = 0; i < series; i++) c.inc({ route: `/r/${i % 500}`, status: String(200 + Math.floor(i / 500)) }, i);
  const h = m.histogram({ name: 'lat_seconds', help: 'Latency', labelNames: ['route'] as const });
  for (let i = 0; i < 100; i++) for (let k = 0; k < 20; k++) h.observe({ route: `/r/${i}` }, k / 10);
  return m;
}

async function main(): Promise<void> {
  console.log(`# @periscope/metrics: OTLP push vs Prometheus exposition\n\n${machineLine()}\n`);
  let bytes = 0;
  const server = http.createServer((req, res) => {
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => res.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const series of [1000, 10_000]) {
    const m = registry(series);
    const pusher = startOtlpPush(m, { endpoint, intervalMs: 3_600_000, env: {} });
    bytes = 0;
    await pusher.push();
    const otlpBytes = bytes;
    const textBytes = Buffer.byteLength((await m.expose()).body);
    await compare(
      `${series} counter series + 100 histogram series (OTLP body ${(otlpBytes / 1024).toFixed(0)} KiB, text ${(textBytes / 1024).toFixed(0)} KiB)`,
      [
        { name: 'expose() (Prometheus text)', fn: () => m.expose() },
        { name: 'push() (OTLP protobuf over HTTP)', fn: () => pusher.push() },
      ],
      { rounds: 5, sliceMs: 500 },
    );
    await pusher.close();
    await m.close();
  }
  server.close();
}

void main();
