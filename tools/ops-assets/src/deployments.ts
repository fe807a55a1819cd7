// Kubernetes manifests (Deployment with the probes, Service, ServiceMonitor, PodMonitor,
// PrometheusRule embedding the rule file) and a compose file (the apps, PostgreSQL, Redis,
// Prometheus, Alertmanager, Grafana). The apps run from the built repository (no image of ours yet).
import type { OpsCatalogue } from '@periscope/alerting';
import { ruleGroups } from './prometheus';
import { toYaml, toYamlDocuments } from './yaml';

export const K8S_APP = 'deploy/kubernetes/demo-agent.yaml';
export const K8S_RULES = 'deploy/kubernetes/prometheus-rule.yaml';
export const COMPOSE_FILE = 'deploy/compose/compose.yaml';
export const DEMO_PORT = 9464;
export const HEALTH_SERVER_PORT = 9465;
const NODE_IMAGE = 'node:20-bookworm-slim';

const labels = { 'app.kubernetes.io/name': 'periscope-demo-agent', 'app.kubernetes.io/part-of': 'periscope' };

function deployment() {
  const probe = (path: string, period: number, failures: number) => ({
    httpGet: { path, port: 'http' },
    periodSeconds: period,
    timeoutSeconds: 2,
    failureThreshold: failures,
  });
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'periscope-demo-agent', labels },
    spec: {
      replicas: 2,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          terminationGracePeriodSeconds: 30,
          containers: [
            {
              name: 'demo-agent',
              image: 'periscope/demo-agent:0.1.0',
              args: ['--tasks', '0', '--port', String(DEMO_PORT), '--host', '0.0.0.0'],
              ports: [{ name: 'http', containerPort: DEMO_PORT, protocol: 'TCP' }],
              env: [
                { name: 'OTEL_SERVICE_NAME', value: 'periscope-demo-agent' },
                {
                  name: 'DATABASE_URL',
                  valueFrom: { secretKeyRef: { name: 'periscope-demo-agent', key: 'database-url' } },
                },
                { name: 'REDIS_URL', valueFrom: { secretKeyRef: { name: 'periscope-demo-agent', key: 'redis-url' } } },
              ],
              startupProbe: probe('/livez', 2, 30),
              livenessProbe: probe('/livez', 10, 3),
              readinessProbe: probe('/readyz', 5, 2),
              resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { memory: '1Gi' } },
              securityContext: { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false },
            },
          ],
        },
      },
    },
  };
}

const monitorEndpoint = { port: 'http', path: '/metrics', interval: '15s', scrapeTimeout: '10s' };

/** The app: Deployment, Service, ServiceMonitor (through the Service), PodMonitor (pods directly). */
export function kubernetesApp(): string {
  return toYamlDocuments(
    [
      deployment(),
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'periscope-demo-agent', labels },
        spec: { selector: labels, ports: [{ name: 'http', port: DEMO_PORT, targetPort: 'http', protocol: 'TCP' }] },
      },
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'ServiceMonitor',
        metadata: { name: 'periscope-demo-agent', labels },
        spec: { selector: { matchLabels: labels }, endpoints: [monitorEndpoint] },
      },
      {
        apiVersion: 'monitoring.coreos.com/v1',
        kind: 'PodMonitor',
        metadata: { name: 'periscope-demo-agent-pods', labels },
        spec: {
          selector: { matchLabels: labels },
          podMetricsEndpoints: [monitorEndpoint],
        },
      },
    ],
    'The demo agent on Kubernetes: Deployment (startup, liveness and readiness probes), Service,\nServiceMonitor and PodMonitor (Prometheus Operator). Use one of the two monitors, not both.',
  );
}

/** The rule file as a PrometheusRule (Prometheus Operator). */
export function kubernetesRules(catalogue: OpsCatalogue): string {
  return toYaml(
    {
      apiVersion: 'monitoring.coreos.com/v1',
      kind: 'PrometheusRule',
      metadata: {
        name: 'periscope',
        labels: { ...labels, 'app.kubernetes.io/name': 'periscope', role: 'alert-rules' },
      },
      spec: ruleGroups(catalogue),
    },
    'The Periscope rules (the same groups as deploy/prometheus/rules/periscope.rules.yml) for the Prometheus Operator.',
  );
}

/** Long port syntax: `9464:9464` as a short string is a base-60 number to YAML 1.1 readers. */
const publish = (port: number) => ({ target: port, published: port, protocol: 'tcp' });

export function composeFile(): string {
  const app = (script: string, command: string[], port: number, env: Record<string, string>) => ({
    image: NODE_IMAGE,
    working_dir: '/repo',
    volumes: ['../..:/repo:ro'],
    command: ['node', script, ...command],
    environment: env,
    ports: [publish(port)],
    depends_on: { postgres: { condition: 'service_healthy' }, redis: { condition: 'service_started' } },
    healthcheck: {
      test: [
        'CMD',
        'node',
        '-e',
        `fetch('http://127.0.0.1:${port}/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
      ],
      interval: '10s',
      timeout: '3s',
      retries: 3,
    },
  });
  const services = {
    'demo-agent': app(
      'apps/demo-agent/dist/main.js',
      ['--tasks', '0', '--port', String(DEMO_PORT), '--host', '0.0.0.0'],
      DEMO_PORT,
      {
        DATABASE_URL: 'postgres://postgres:periscope@postgres:5432/postgres',
        REDIS_URL: 'redis://redis:6379',
        PERISCOPE_DEMO_CACHE_DIR: '/tmp/periscope-demo-cache',
      },
    ),
    'health-server': app('apps/health-server/dist/main.js', [], HEALTH_SERVER_PORT, {
      PERISCOPE_HEALTH_SERVER_PORT: String(HEALTH_SERVER_PORT),
      PERISCOPE_HEALTH_SERVER_HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://postgres:periscope@postgres:5432/postgres',
      REDIS_URL: 'redis://redis:6379',
      PERISCOPE_AGENTS: `http://demo-agent:${DEMO_PORT}`,
    }),
    postgres: {
      image: 'postgres:16',
      environment: { POSTGRES_PASSWORD: 'periscope' },
      healthcheck: { test: ['CMD', 'pg_isready', '-U', 'postgres'], interval: '5s', timeout: '3s', retries: 10 },
    },
    redis: { image: 'redis:7' },
    prometheus: {
      image: 'prom/prometheus:v2.53.0',
      command: ['--config.file=/etc/prometheus/prometheus.yml', '--enable-feature=exemplar-storage'],
      volumes: ['../prometheus:/etc/prometheus:ro'],
      ports: [publish(9090)],
    },
    alertmanager: {
      image: 'prom/alertmanager:v0.27.0',
      command: ['--config.file=/etc/alertmanager/alertmanager.yml'],
      volumes: ['../alertmanager:/etc/alertmanager:ro', './secrets:/etc/alertmanager/secrets:ro'],
      ports: [publish(9093)],
    },
    grafana: {
      image: 'grafana/grafana:11.1.0',
      environment: { GF_AUTH_ANONYMOUS_ENABLED: 'true', GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer' },
      volumes: ['./grafana-provisioning:/etc/grafana/provisioning:ro', '../grafana:/var/lib/grafana/dashboards:ro'],
      ports: [publish(3000)],
    },
  };
  return toYaml(
    { services },
    'The demo agent, the health server, PostgreSQL, Redis, Prometheus, Alertmanager and Grafana.\nBuild first (npm run build), put the receiver secrets in deploy/compose/secrets/, then:\n  docker compose -p periscope -f deploy/compose/compose.yaml up',
  );
}

/** Grafana provisioning for the compose file: the Prometheus data source and the dashboards folder. */
export function grafanaProvisioning(): Map<string, string> {
  return new Map([
    [
      'deploy/compose/grafana-provisioning/datasources/prometheus.yaml',
      toYaml(
        {
          apiVersion: 1,
          datasources: [
            {
              name: 'Prometheus',
              type: 'prometheus',
              uid: 'prometheus',
              url: 'http://prometheus:9090',
              isDefault: true,
            },
          ],
        },
        'Grafana data source of the compose setup.',
      ),
    ],
    [
      'deploy/compose/grafana-provisioning/dashboards/periscope.yaml',
      toYaml(
        {
          apiVersion: 1,
          providers: [
            { name: 'periscope', folder: 'Periscope', type: 'file', options: { path: '/var/lib/grafana/dashboards' } },
          ],
        },
        'Loads the generated dashboards of deploy/grafana.',
      ),
    ],
  ]);
}
