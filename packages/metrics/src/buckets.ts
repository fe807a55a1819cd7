// Bucket presets. The GenAI ones are the boundaries the OpenTelemetry GenAI semantic conventions
// advise for gen_ai.client.operation.duration and gen_ai.client.token.usage.
export const Buckets = {
  /** Seconds, 1 ms to 10 s: request and query latency. */
  latency: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as readonly number[],
  /** Seconds, 0.01 to 81.92 s (powers of two): LLM operation duration. */
  llmLatency: [
    0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
  ] as readonly number[],
  /** Token counts, 1 to 67108864 (powers of four). */
  tokens: [
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
  ] as readonly number[],
  /** Bytes, 64 B to 64 MiB (powers of four). */
  bytes: [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864] as readonly number[],
};
