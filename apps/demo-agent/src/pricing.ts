// Simulated cost: USD per million tokens, input and output, per model. Unknown models cost 0
// and are listed as such in /status rather than guessed.
export const PRICE_PER_MILLION_TOKENS: Record<string, { input: number; output: number }> = {
  'sim-gpt-4o-mini': { input: 0.15, output: 0.6 },
  'sim-gpt-4o': { input: 2.5, output: 10 },
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4o': { input: 2.5, output: 10 },
};

export function costUsd(model: string, inputTokens: number, outputTokens: number): number {
  const price = PRICE_PER_MILLION_TOKENS[model];
  if (!price) return 0;
  return (inputTokens * price.input + outputTokens * price.output) / 1e6;
}
