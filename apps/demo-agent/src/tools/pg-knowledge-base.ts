// The knowledge base in PostgreSQL: the corpus in a table with a generated tsvector column and a
// GIN index, searched with full-text search and ranked by ts_rank. Also the per-task memory
// table the agent writes to.
import type { DbPool } from '@periscope/db-pool';
import { generateCorpus } from './corpus';
import type { KnowledgeBase, SearchHit } from './knowledge-base';
import type { TaskResult } from '../agent';

const KB_TABLE = 'periscope_demo_kb';
const MEMORY_TABLE = 'periscope_demo_memory';
// Serializes schema setup across instances starting at once (CREATE … IF NOT EXISTS races).
const SETUP_LOCK = 7_340_021;

/** Creates the tables and seeds the corpus once; safe to run from several instances at once. */
export async function setUpSchema(pool: DbPool): Promise<{ documents: number }> {
  const docs = generateCorpus();
  await pool.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [SETUP_LOCK]);
    await tx.query(`CREATE TABLE IF NOT EXISTS ${KB_TABLE} (
      id integer PRIMARY KEY,
      title text NOT NULL,
      body text NOT NULL,
      tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', title || ' ' || body)) STORED)`);
    await tx.query(`CREATE INDEX IF NOT EXISTS ${KB_TABLE}_tsv ON ${KB_TABLE} USING gin (tsv)`);
    await tx.query(`CREATE TABLE IF NOT EXISTS ${MEMORY_TABLE} (
      task_id uuid PRIMARY KEY,
      prompt text NOT NULL,
      answer text,
      status text NOT NULL,
      input_tokens integer NOT NULL,
      output_tokens integer NOT NULL,
      duration_ms integer NOT NULL,
      tools text[] NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now())`);
    // One multi-row insert: a few hundred rows, one round trip.
    const values: unknown[] = [];
    const rows = docs.map((d, i) => {
      values.push(d.id, d.title, d.body);
      return `($${i * 3 + 1}, $${i * 3 + 2}, $${i * 3 + 3})`;
    });
    await tx.query(
      `INSERT INTO ${KB_TABLE} (id, title, body) VALUES ${rows.join(', ')} ON CONFLICT (id) DO NOTHING`,
      values,
    );
  });
  const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${KB_TABLE}`);
  return { documents: Number(rows[0].n) };
}

export class PostgresKnowledgeBase implements KnowledgeBase {
  readonly kind = 'postgresql';
  constructor(private readonly pool: DbPool) {}

  async search(query: string, limit: number, signal?: AbortSignal): Promise<SearchHit[]> {
    // Any of the words may match (ranked by how many and how well): OR the lexemes.
    const words = query
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter((w) => w.length > 2)
      .slice(0, 16);
    if (words.length === 0) return [];
    const { rows } = await this.pool.query<{ id: number; title: string; snippet: string; score: number }>(
      `SELECT id, title, left(body, 120) AS snippet, ts_rank(tsv, q) AS score
         FROM ${KB_TABLE}, to_tsquery('english', $1) AS q
        WHERE tsv @@ q
        ORDER BY score DESC, id
        LIMIT $2`,
      [words.join(' | '), limit],
      { signal },
    );
    return rows.map((r) => ({ ...r, score: Number(r.score) }));
  }
}

/** PostgreSQL text cannot hold NUL: written as the six characters \u0000 so the row is never lost. */
export function pgText(text: string): string;
export function pgText(text: string | null): string | null;
export function pgText(text: string | null): string | null {
  return text === null || !text.includes('\u0000') ? text : text.replaceAll('\u0000', '\\u0000');
}

/** Writes a finished task to the memory table (what the agent did, for later look-ups). */
export async function rememberTask(pool: DbPool, task: TaskResult): Promise<void> {
  await pool.query(
    `INSERT INTO ${MEMORY_TABLE} (task_id, prompt, answer, status, input_tokens, output_tokens, duration_ms, tools)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (task_id) DO NOTHING`,
    [
      task.id,
      pgText(task.prompt),
      pgText(task.answer || task.error || null),
      task.status,
      task.usage.inputTokens,
      task.usage.outputTokens,
      Math.round(task.durationMs),
      task.toolCalls.map((t) => t.name),
    ],
  );
}
