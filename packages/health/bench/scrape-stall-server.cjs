// The server under test alone in its process; an outside scraper (curl) hits /metrics. Reports the
// longest event-loop gap seen while each scrape was being served.
const { performance } = require('node:perf_hooks');
const { createMetrics } = require('@periscope/metrics');
const { createHealthServer } = require('../dist/index.js');
(async () => {
  const metrics = createMetrics({ collectDefaultMetrics: false, maxSeriesPerMetric: 200_000 });
  const c = metrics.counter({ name: 'fleet_total', help: 'h', labelNames: ['tenant', 'route'] });
  for (let i = 0; i < 100_000; i++) c.inc({ tenant: `t${i % 5000}`, route: `/r${Math.floor(i / 5000)}` });
  const server = createHealthServer({ port: 0, host: '127.0.0.1', metrics, handleSignals: false });
  const { port } = await server.listen();
  let last = performance.now(),
    worst = 0,
    active = 0;
  const results = [];
  setInterval(() => {
    const now = performance.now();
    if (active) worst = Math.max(worst, now - last);
    last = now;
  }, 1);
  process.stdout.write(`${port}\n`);
  process.stdin.on('data', (d) => {
    const cmd = d.toString().trim();
    if (cmd === 'start') {
      active = 1;
      worst = 0;
      last = performance.now();
    }
    if (cmd === 'stop') {
      active = 0;
      results.push(worst);
      process.stdout.write(`gap ${worst.toFixed(1)}\n`);
    }
    if (cmd === 'quit') {
      results.sort((a, b) => a - b);
      process.stdout.write(`median ${results[results.length >> 1].toFixed(1)} max ${results.at(-1).toFixed(1)}\n`);
      process.exit(0);
    }
  });
})();
