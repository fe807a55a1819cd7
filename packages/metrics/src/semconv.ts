// Incubating GenAI semantic-convention names, copied from @opentelemetry/semantic-conventions
// 1.45.0 (/incubating), as that package recommends for unstable names: the incubating entry is
// ~850 KB and would add ~90 ms to the first require of this package. test/semconv.test.ts proves
// every value equal to the package's own.
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name' as const;
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name' as const;
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model' as const;
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model' as const;
export const ATTR_GEN_AI_TOKEN_TYPE = 'gen_ai.token.type' as const;
export const GEN_AI_TOKEN_TYPE_VALUE_INPUT = 'input' as const;
export const GEN_AI_TOKEN_TYPE_VALUE_OUTPUT = 'output' as const;
export const METRIC_GEN_AI_CLIENT_OPERATION_DURATION = 'gen_ai.client.operation.duration' as const;
export const METRIC_GEN_AI_CLIENT_OPERATION_TIME_PER_OUTPUT_CHUNK =
  'gen_ai.client.operation.time_per_output_chunk' as const;
export const METRIC_GEN_AI_CLIENT_OPERATION_TIME_TO_FIRST_CHUNK =
  'gen_ai.client.operation.time_to_first_chunk' as const;
export const METRIC_GEN_AI_CLIENT_TOKEN_USAGE = 'gen_ai.client.token.usage' as const;
