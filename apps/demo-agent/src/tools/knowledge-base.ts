// The knowledge-base tool's storage seam: search over the corpus (PostgreSQL full-text search in
// pg-knowledge-base.ts).

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
