// Public surface of @periscope/alerting.
export { AlertManager, createAlertManager } from './manager';
export type { AlertTransition, RuleStatus } from './manager';
export type { AlertManagerOptions } from './config';
export type { Alert, AlertState } from './state';
export { compileRule, toPrometheusRuleGroups, toPrometheusRulesYaml, SEVERITIES } from './rules';
export type {
  Rule,
  ThresholdRule,
  AnomalyRule,
  Severity,
  RuleAnnotations,
  PrometheusRuleGroup,
  PrometheusAlertingRule,
  CompiledRule,
} from './rules';
export { DEFAULT_INHIBIT_RULES } from './silences';
export { defaultRules } from './default-rules';
export type { DefaultRulesOptions } from './default-rules';
export type { Silence, SilenceInput, InhibitRule } from './silences';
export type {
  ChannelConfig,
  ConsoleChannel,
  WebhookChannel,
  EmailChannel,
  AlertmanagerChannel,
  CustomChannel,
  Notification,
} from './channels';
export type { DeliveryStats, DeliveryOptions } from './channels/delivery';
export type { SmtpOptions } from './channels/smtp';
export { robustZ } from './anomaly';
export { historySource } from './source';
export type { SeriesSource, SourceSeries } from './source';
export { evaluateExpr } from './promql/evaluate';
export type { Sample, Vector, Labels } from './promql/eval';
export {
  AlertingError,
  PromQLSyntaxError,
  UnsupportedPromQLError,
  RuleError,
  ChannelError,
  AlertingConfigError,
} from './errors';
export type { AlertingErrorCode } from './errors';
export { parse, MAX_EXPR_LENGTH, MAX_DEPTH } from './promql/parser';
export { print, formatDuration } from './promql/ast';
export type {
  Expr,
  LabelMatcher,
  MatchOp,
  VectorSelector,
  Call,
  Aggregation,
  Binary,
  NumberLiteral,
  BinaryOp,
  ArithmeticOp,
  ComparisonOp,
  VectorMatching,
} from './promql/ast';
export { defineSlo, BURN_RATE_WINDOWS, SLO_FAST_BURN_ALERT, SLO_SLOW_BURN_ALERT } from './slo';
export type {
  Slo,
  SloDefinition,
  RatioSli,
  LatencySli,
  BurnRateWindow,
  PrometheusRecordingRule,
  PrometheusAlert,
} from './slo';
export { defaultOpsCatalogue, defaultSlos } from './catalogue';
export type { OpsCatalogue, OpsCatalogueOptions, OpsRuleGroup, Runbook } from './catalogue';
export { sloStatus } from './slo-status';
export type { SloStatus } from './slo-status';
