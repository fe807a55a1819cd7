// A real Prometheus server for end-to-end tests: scrapes a target the way production does
// (negotiating OpenMetrics, storing exemplars) so "our exposition parses" is checked by the
// consumer itself, not by our own reading of the format.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './services';

export interface PrometheusServer {
  readonly url: string;
  /** Instant query; returns the `data.result` array. */
  query(promql: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  /** The scrape target's health as Prometheus sees it. */
  targets(): Promise<Array<{ health: string; lastError: string; scrapeUrl: string }>>;
  /** Loaded rule groups with each rule's health and last error. */
  rules(): Promise<
    Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string; type: string }> }>
  >;
  exemplars(
    promql: string,
  ): Promise<
    Array<{ seriesLabels: Record<string, string>; exemplars: Array<{ labels: Record<string, string>; value: string }> }>
  >;
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  metricsPath?: string;
  /** Rule files to load (absolute paths), evaluated every second. */
  ruleFiles?: string[];
}

/** Scrapes `target` (host:port), or several targets in one job. */
export async function startPrometheus(
  target: string | string[],
  options: PrometheusOptions = {},
): Promise<PrometheusServer> {
  const metricsPath = options.metricsPath ?? '/metrics';
  const bin = spawnSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' }).stdout.trim();
  if (!bin) throw new Error('prometheus is not installed: apt-get install prometheus (CI installs it in .ci/run)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-prom-'));
  const port = await freePort();
  fs.writeFileSync(
    path.join(dir, 'prometheus.yml'),
    [
      'global:',
      '  scrape_interval: 1s',
      '  scrape_timeout: 900ms',
      '  evaluation_interval: 1s',
      ...(options.ruleFiles?.length
        ? ['rule_files:', ...options.ruleFiles.map((f) => `  - ${JSON.stringify(f)}`)]
        : []),
      'scrape_configs:',
      '  - job_name: target',
      `    metrics_path: ${metricsPath}`,
      '    static_configs:',
      `      - targets: [${[target]
        .flat()
        .map((t) => `'${t}'`)
        .join(', ')}]`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(
    bin,
    [
      `--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--enable-feature=exemplar-storage',
      '--log.level=warn',
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = `http://127.0.0.1:${port}`;
  const api = async (p: string) => {
    const res = await fetch(`${url}${p}`);
    const body = (await res.json()) as { status: string; data: unknown; error?: string };
    if (body.status !== 'success') throw new Error(`prometheus ${p}: ${body.error}`);
    return body.data;
  };
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 15000;
  for (;;) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error('prometheus did not become ready within 15 s');
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async query(promql) {
      return ((await api(`/api/v1/query?query=${encodeURIComponent(promql)}`)) as { result: never }).result;
    },
    async targets() {
      return ((await api('/api/v1/targets')) as { activeTargets: never }).activeTargets;
    },
    async rules() {
      return ((await api('/api/v1/rules')) as { groups: never }).groups;
    },
    async exemplars(promql) {
      const now = Date.now() / 1000;
      return (await api(
        `/api/v1/query_exemplars?query=${encodeURIComponent(promql)}&start=${now - 3600}&end=${now + 60}`,
      )) as never;
    },
    stop,
  };
}
