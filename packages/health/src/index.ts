// Public surface of @periscope/health.
export { HealthServer, createHealthServer } from './server';
export type {
  StatusProvider,
  ShutdownHook,
  ShutdownHookOptions,
  ListenAddress,
  HookReport,
  ShutdownReport,
} from './server';
export type { HealthServerOptions } from './config';
export { DEFAULTS } from './config';
export { CHECK_DEFAULTS } from './checks';
export type { CheckDefinition, CheckOutcome, CheckResult, CheckStatus } from './checks';
export type { LifecycleState } from './instrumentation';
export type { HealthDocument, HealthComponent } from './probes';
export type { RouteMethod, RouteHandler, RouteContext } from './router';
export { readJsonBody, DEFAULT_BODY_LIMIT_BYTES } from './body';
export type { ReadBodyOptions } from './body';
export { sendJson, sendText } from './respond';
export {
  HealthError,
  HealthConfigError,
  HealthStateError,
  HealthTimeoutError,
  HealthListenError,
  HttpError,
  BodyTooLargeError,
  InvalidBodyError,
} from './errors';
export type { HealthErrorCode, HttpErrorOptions } from './errors';
export type { TraceSource, TraceSummaryLike } from './page/traces';
export { PAGE_CSP } from './page/routes';
export type { SeriesOptions, SeriesDocument, HistorySource } from './page/series';
export type { ProfileSource, FlameProfileLike, FlameNode, PageFlameNode, ProfileDocument } from './page/profile';
export type { FrameworkOptions } from './frameworks/options';
