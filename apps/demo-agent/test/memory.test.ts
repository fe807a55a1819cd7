// The task memory table against the real PostgreSQL: text PostgreSQL cannot hold (NUL) is stored
// escaped, so a finished task always has its row.
import { randomUUID } from 'node:crypto';
import { createPool, type DbPool } from '@periscope/db-pool';
import { postgresUrl } from '@periscope-tools/testing';
import type { TaskResult } from '../src/agent';
import { parsePrompt } from '../src/task-api';
import { pgText, rememberTask, setUpSchema } from '../src/tools/pg-knowledge-base';

let pool: DbPool;
beforeAll(async () => {
  pool = createPool({ connectionString: postgresUrl(), poolSize: 2 });
  await setUpSchema(pool);
});
afterAll(() => pool.close());

const task = (over: Partial<TaskResult>): TaskResult => ({
  id: randomUUID(),
  prompt: 'p',
  status: 'ok',
  answer: 'a',
  usage: { inputTokens: 1, outputTokens: 1 },
  durationMs: 1,
  iterations: 1,
  retries: 0,
  cachedCalls: 0,
  toolCalls: [],
  model: 'm',
  costUsd: 0,
  finishedAt: new Date().toISOString(),
  ...over,
});

test('a NUL in a prompt or answer is stored escaped; the row is never lost', async () => {
  const t = task({ prompt: 'before\u0000after', answer: 'model said \u0000 here' });
  await rememberTask(pool, t);
  const { rows } = await pool.query<{ prompt: string; answer: string }>(
    'SELECT prompt, answer FROM periscope_demo_memory WHERE task_id = $1',
    [t.id],
  );
  expect(rows).toEqual([{ prompt: 'before\\u0000after', answer: 'model said \\u0000 here' }]);
  expect(pgText('plain')).toBe('plain');
  expect(pgText(null)).toBeNull();
});

test('POST /tasks refuses a NUL in the prompt with a 400 that names it', () => {
  expect(() => parsePrompt({ prompt: 'a\u0000b' })).toThrow(
    expect.objectContaining({ statusCode: 400, code: 'ERR_DEMO_INVALID_TASK', message: expect.stringMatching(/NUL/) }),
  );
  expect(parsePrompt({ prompt: 'What is 1+1?' })).toBe('What is 1+1?');
});
