// The knowledge-base tool: search over the corpus. `KnowledgeBase` is the storage seam: an
// in-memory implementation here, PostgreSQL full-text search where a database is configured.
import { generateCorpus, type KnowledgeDoc } from './corpus';

export interface SearchHit {
  id: number;
  title: string;
  snippet: string;
  score: number;
}

export interface KnowledgeBase {
  readonly kind: string;
  search(query: string, limit: number, signal?: AbortSignal): Promise<SearchHit[]>;
}

function terms(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((t) => t.length > 2);
}

/** Term-overlap scoring over the generated corpus: no database needed. */
export class InMemoryKnowledgeBase implements KnowledgeBase {
  readonly kind = 'memory';
  private readonly docs: { doc: KnowledgeDoc; terms: Set<string> }[];

  constructor(docs: KnowledgeDoc[] = generateCorpus()) {
    this.docs = docs.map((doc) => ({ doc, terms: new Set(terms(`${doc.title} ${doc.body}`)) }));
  }

  async search(query: string, limit: number): Promise<SearchHit[]> {
    const q = terms(query);
    if (q.length === 0) return [];
    return this.docs
      .map(({ doc, terms: t }) => ({ doc, score: q.filter((w) => t.has(w)).length / q.length }))
      .filter((h) => h.score > 0)
      .sort((a, b) => b.score - a.score || a.doc.id - b.doc.id)
      .slice(0, limit)
      .map(({ doc, score }) => ({ id: doc.id, title: doc.title, snippet: doc.body.slice(0, 120), score }));
  }
}
