// The demo's batch of tasks: prompts drawn from templates with a seeded generator, so a run with
// the same --seed asks the same questions.
import { createRng } from './random';
import { CORPUS_TOPICS } from './tools/corpus';

const TEMPLATES: ((r: ReturnType<typeof createRng>) => string)[] = [
  (r) => `What is ${r.int(900) + 10} * ${r.int(90) + 2} + ${r.int(1000)}?`,
  (r) => `Search the docs about ${r.pick(CORPUS_TOPICS)}.`,
  (r) => `Calculate (${r.int(500)} + ${r.int(500)}) / ${r.int(9) + 1} and find notes on ${r.pick(CORPUS_TOPICS)}.`,
  (r) => `Find documents about ${r.pick(CORPUS_TOPICS)} and embed a summary for similar incidents.`,
  (r) => `Compute sqrt(${(r.int(90) + 10) ** 2}) ^ 2 for the capacity plan.`,
  (r) => `Embed this incident report for similarity search: ${r.pick(CORPUS_TOPICS)} degraded at ${r.int(24)}:00.`,
];

export function generateTasks(count: number, seed: number): string[] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => rng.pick(TEMPLATES)(rng));
}
