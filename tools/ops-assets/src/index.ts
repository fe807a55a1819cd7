// The ops-assets generator, for its tests and for scripts.
export { catalogue, generateAssets, writeAssets, staleAssets, OWNED_DIRS, RUNBOOK_BASE_URL } from './generate';
export {
  rulesFile,
  ruleGroups,
  prometheusConfig,
  RULES_FILE,
  PROMETHEUS_CONFIG,
  EVALUATION_INTERVAL,
} from './prometheus';
export { alertmanagerConfig, ALERTMANAGER_CONFIG, RECEIVERS } from './alertmanager';
export { DASHBOARDS, dashboardJson } from './dashboards';
export type { DashboardSpec, PanelSpec } from './dashboards';
export { kubernetesApp, kubernetesRules, composeFile, K8S_APP, K8S_RULES, COMPOSE_FILE } from './deployments';
export { runbookFiles, RUNBOOK_DIR } from './runbooks';
export { registeredMetrics, scanSourceMetrics, registryMetrics, isRegisteredSeries } from './metric-names';
export type { RegisteredMetric, MetricKind } from './metric-names';
export { selectedMetricNames } from './promql-names';
