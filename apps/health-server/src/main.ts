#!/usr/bin/env node
// `npm run health-server`: the standalone node monitor on port 9465.
import { parseMonitorConfig, MonitorConfigError, USAGE } from './config';
import { createMonitor } from './monitor';

async function main(): Promise<void> {
  let config;
  try {
    config = parseMonitorConfig(process.argv.slice(2));
  } catch (err) {
    if (err instanceof MonitorConfigError) {
      process.stderr.write(`error: ${err.message}\n\n${USAGE}\n`);
      process.exit(2);
    }
    throw err;
  }
  if (config === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const monitor = createMonitor(config);
  const address = await monitor.server.listen();
  monitor.server.markReady();
  const base = `http://${address.host}:${address.port}`;
  process.stdout.write(
    `Periscope health server on ${base} — / (status page) /health /readyz /livez /metrics /status; watching ${[config.databaseUrl ? 'postgres' : '', config.redisUrl ? 'redis' : '', ...config.agents.map((_, i) => `agent-${i + 1}`)].filter(Boolean).join(', ') || 'the host only'}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`health-server failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
