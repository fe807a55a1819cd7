// The resource of this process: service, instance, host and process attributes, the same for every
// signal. The rule is @periscope/core's (processResourceAttributes, serviceInstanceId), which
// @periscope/metrics' OTLP push and @periscope/logging's OTLP transport apply too, so traces,
// metrics and logs from one process join on service.instance.id without shared state.
export { processResourceAttributes, serviceInstanceId } from '@periscope/core';
