// Typed errors of @periscope/alerting. Callers branch on `code`; messages name the rule, the
// construct or the option that was wrong and never carry a secret (URLs go through redactUrl).
import { ConfigError, PeriscopeError, type PeriscopeErrorOptions } from '@periscope/core';

export type AlertingErrorCode =
  | 'ERR_ALERTING_PARSE'
  | 'ERR_ALERTING_UNSUPPORTED'
  | 'ERR_ALERTING_RULE'
  | 'ERR_ALERTING_CONFIG'
  | 'ERR_ALERTING_CHANNEL'
  | 'ERR_ALERTING_CLOSED';

export class AlertingError<C extends AlertingErrorCode = AlertingErrorCode> extends PeriscopeError<C> {
  constructor(code: C, message: string, options?: PeriscopeErrorOptions) {
    super(code, message, options);
  }
}

/** An expression that is not valid PromQL (syntax), with the character offset where it failed. */
export class PromQLSyntaxError extends AlertingError<'ERR_ALERTING_PARSE'> {
  constructor(
    message: string,
    readonly position: number,
  ) {
    super('ERR_ALERTING_PARSE', `${message} at position ${position}`);
  }
}

/** Valid PromQL outside the supported subset; `construct` names it (e.g. "function irate", "offset"). */
export class UnsupportedPromQLError extends AlertingError<'ERR_ALERTING_UNSUPPORTED'> {
  constructor(
    readonly construct: string,
    readonly position: number,
  ) {
    super(
      'ERR_ALERTING_UNSUPPORTED',
      `unsupported PromQL: ${construct} (at position ${position}) is not in the subset`,
    );
  }
}

/** A rule that cannot be added: bad shape, duplicate name, or an expression that failed to parse (`cause`). */
export class RuleError extends AlertingError<'ERR_ALERTING_RULE'> {
  constructor(
    readonly rule: string,
    message: string,
    options?: PeriscopeErrorOptions,
  ) {
    super('ERR_ALERTING_RULE', `rule ${JSON.stringify(rule)}: ${message}`, options);
  }
}

/** A delivery that failed (after its retries); counted, never thrown into evaluation. */
export class ChannelError extends AlertingError<'ERR_ALERTING_CHANNEL'> {
  constructor(
    readonly channel: string,
    message: string,
    options?: PeriscopeErrorOptions,
  ) {
    super('ERR_ALERTING_CHANNEL', `channel ${channel}: ${message}`, options);
  }
}

export class AlertingConfigError extends ConfigError<'ERR_ALERTING_CONFIG'> {
  constructor(option: string, accepted: string, got: unknown, suggestion?: string) {
    super(option, accepted, got, { code: 'ERR_ALERTING_CONFIG', suggestion });
  }
}
