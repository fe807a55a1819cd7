// Host metrics via systeminformation. Each call takes milliseconds (some spawn `df` or sample
// /proc over time), so they run on a background, unref'ed interval and the gauges just hold the
// last values: a scrape never waits for them.
import type { Metrics } from './metrics';
import type { Counter, Gauge } from './types';

const SETTLE_MS = 100;

// Loaded on first collection, not at import: host metrics are opt-in, and systeminformation is a
// large module tree every user of @periscope/metrics would otherwise pay for at startup.
type SystemInformation = typeof import('systeminformation');
let siModule: SystemInformation | undefined;
function si(): SystemInformation {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, synchronous load (Jest's VM refuses import())
  siModule ??= require('systeminformation') as SystemInformation;
  return siModule;
}

export class HostMetricsCollector {
  readonly intervalMs: number;
  private readonly cpu: Gauge;
  private readonly memTotal: Gauge;
  private readonly memUsed: Gauge;
  private readonly memAvailable: Gauge;
  private readonly diskSize: Gauge<'mount'>;
  private readonly diskUsed: Gauge<'mount'>;
  private readonly netRx: Gauge<'interface'>;
  private readonly netTx: Gauge<'interface'>;
  private readonly errors: Counter<'source'>;
  private readonly warn: (message: string) => void;
  private readonly warned = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private lastEnd = 0;

  constructor(metrics: Metrics, intervalMs: number, warn: (message: string) => void) {
    this.intervalMs = intervalMs;
    this.warn = warn;
    this.cpu = metrics.gauge({ name: 'periscope_host_cpu_load_ratio', help: 'Host CPU load over all cores (0-1)' });
    this.memTotal = metrics.gauge({ name: 'periscope_host_memory_total_bytes', help: 'Host memory size' });
    this.memUsed = metrics.gauge({
      name: 'periscope_host_memory_used_bytes',
      help: 'Host memory in use, excluding buffers and caches',
    });
    this.memAvailable = metrics.gauge({
      name: 'periscope_host_memory_available_bytes',
      help: 'Host memory available to new processes',
    });
    this.diskSize = metrics.gauge({
      name: 'periscope_host_disk_size_bytes',
      help: 'File system size',
      labelNames: ['mount'],
    });
    this.diskUsed = metrics.gauge({
      name: 'periscope_host_disk_used_bytes',
      help: 'File system space in use',
      labelNames: ['mount'],
    });
    this.netRx = metrics.gauge({
      name: 'periscope_host_network_receive_bytes_per_second',
      help: 'Bytes received per second since the previous collection',
      labelNames: ['interface'],
    });
    this.netTx = metrics.gauge({
      name: 'periscope_host_network_transmit_bytes_per_second',
      help: 'Bytes sent per second since the previous collection',
      labelNames: ['interface'],
    });
    this.errors = metrics.counter({
      name: 'periscope_host_collect_errors_total',
      help: 'Failed host metric collections by source',
      labelNames: ['source'],
    });
    this.timer = setInterval(() => void this.collectNow(), intervalMs);
    this.timer.unref();
    void this.collectNow();
  }

  /** Collects now (joining a collection already running); never rejects. */
  collectNow(): Promise<void> {
    return (this.inFlight ??= this.collect().finally(() => {
      this.inFlight = undefined;
      this.lastEnd = Date.now();
    }));
  }

  private async collect(): Promise<void> {
    await Promise.all([
      this.source('cpu', async () => {
        this.cpu.set((await si().currentLoad()).currentLoad / 100);
      }),
      this.source('memory', async () => {
        const m = await si().mem();
        this.memTotal.set(m.total);
        this.memUsed.set(m.active);
        this.memAvailable.set(m.available);
      }),
      this.source('disk', async () => {
        for (const fs of await si().fsSize()) {
          this.diskSize.set({ mount: fs.mount }, fs.size);
          this.diskUsed.set({ mount: fs.mount }, fs.used);
        }
      }),
      this.source('network', async () => {
        for (const n of await si().networkStats('*')) {
          // The first reading has no rate yet (null).
          if (typeof n.rx_sec === 'number') this.netRx.set({ interface: n.iface }, n.rx_sec);
          if (typeof n.tx_sec === 'number') this.netTx.set({ interface: n.iface }, n.tx_sec);
        }
      }),
    ]);
  }

  private async source(name: string, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.errors.inc({ source: name });
      if (!this.warned.has(name)) {
        this.warned.add(name);
        this.warn(
          `@periscope/metrics: host ${name} metrics failed: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
  }

  /** Stops the interval and waits for a collection in progress. Idempotent. */
  async close(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.inFlight;
    // systeminformation resolves before its own file reads and `df`/`ip` child processes have
    // fully finished; give them a moment so close() really leaves nothing running.
    const settle = SETTLE_MS - (Date.now() - this.lastEnd);
    if (settle > 0) await new Promise((resolve) => setTimeout(resolve, settle));
  }
}
