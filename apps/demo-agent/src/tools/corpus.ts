// The knowledge base's documents: a few hundred short notes generated from templates, the same
// on every start, so search results are reproducible.
import { createRng } from '../random';

export interface KnowledgeDoc {
  id: number;
  title: string;
  body: string;
}

const TOPICS = [
  'connection pooling',
  'distributed tracing',
  'prometheus metrics',
  'redis caching',
  'gpu scheduling',
  'rate limiting',
  'log redaction',
  'tail sampling',
  'circuit breakers',
  'embeddings',
  'token usage',
  'prompt caching',
  'health checks',
  'graceful shutdown',
  'event loop lag',
  'postgres full-text search',
  'alerting rules',
  'kubernetes probes',
  'retry with backoff',
  'load shedding',
];
const ANGLES = ['overview', 'pitfalls', 'tuning guide', 'runbook', 'design notes', 'faq', 'checklist', 'case study'];
const SENTENCES = [
  (t: string) => `${t} keeps latency predictable when traffic spikes.`,
  (t: string) => `Measure ${t} before changing defaults; the p99 tells the story.`,
  (t: string) => `A common mistake with ${t} is to tune it without looking at saturation.`,
  (t: string) => `For AI agents, ${t} matters because LLM calls are slow and expensive.`,
  (t: string) => `Start with conservative settings for ${t} and alert on error ratios.`,
  (t: string) => `${t} interacts with timeouts: the slowest dependency sets the budget.`,
  (t: string) => `Dashboards for ${t} should show rate, errors and duration side by side.`,
];

export function generateCorpus(count = 320, seed = 7): KnowledgeDoc[] {
  const rng = createRng(seed);
  const docs: KnowledgeDoc[] = [];
  for (let id = 1; id <= count; id++) {
    const topic = TOPICS[(id - 1) % TOPICS.length];
    const angle = rng.pick(ANGLES);
    const body = Array.from({ length: 2 + rng.int(3) }, () => rng.pick(SENTENCES)(topic)).join(' ');
    docs.push({ id, title: `${topic} ${angle} #${id}`, body });
  }
  return docs;
}

export const CORPUS_TOPICS: readonly string[] = TOPICS;
