import { SimulatedProvider, planToolCalls } from '../src/llm/simulated';
import { LlmError } from '../src/llm/provider';
import { createRng } from '../src/random';
import { generateTasks } from '../src/tasks';

const tools = [
  { name: 'calculator', description: '', parameters: {} },
  { name: 'knowledge_base', description: '', parameters: {} },
  { name: 'embedding', description: '', parameters: {} },
];
const request = (content: string) => ({ messages: [{ role: 'user' as const, content }], tools });

describe('SimulatedProvider', () => {
  test('is deterministic: same seed and conversation give the same plan, text and usage', async () => {
    const a = new SimulatedProvider({ seed: 1, latencyScale: 0 });
    const b = new SimulatedProvider({ seed: 1, latencyScale: 0 });
    const prompt = 'Calculate (3 + 4) * 2 and find notes on redis caching.';
    const [ra, rb] = await Promise.all([a.chat(request(prompt)), b.chat(request(prompt))]);
    expect(ra).toEqual(rb);
    expect(ra.toolCalls.map((c) => c.name)).toEqual(['calculator', 'knowledge_base']);
    expect(ra.toolCalls[0].arguments).toEqual({ expression: '(3 + 4) * 2' });
    expect(ra.finishReason).toBe('tool_calls');
  });

  test('another seed changes token counts but not the plan', async () => {
    const prompt = 'What is 12 * 12?';
    const r1 = await new SimulatedProvider({ seed: 1, latencyScale: 0 }).chat(request(prompt));
    const r2 = await new SimulatedProvider({ seed: 2, latencyScale: 0 }).chat(request(prompt));
    expect(r1.toolCalls.map((c) => c.name)).toEqual(r2.toolCalls.map((c) => c.name));
    expect(r1.usage.outputTokens).not.toBe(r2.usage.outputTokens);
  });

  test('answers with text once tool results are in the conversation', async () => {
    const p = new SimulatedProvider({ latencyScale: 0 });
    const r = await p.chat({
      messages: [
        { role: 'user', content: 'What is 2+2?' },
        { role: 'tool', toolCallId: 'x', content: '4' },
      ],
      tools,
    });
    expect(r.toolCalls).toEqual([]);
    expect(r.finishReason).toBe('stop');
    expect(r.text).toContain('4');
    expect(r.usage.inputTokens).toBeGreaterThan(0);
  });

  test('streaming reports time to first token and delivers the whole text', async () => {
    const p = new SimulatedProvider({ latencyScale: 0.2 });
    const chunks: string[] = [];
    const r = await p.chatStream({ messages: [{ role: 'user', content: 'Say something' }] }, (t) => chunks.push(t));
    expect(chunks.join('')).toBe(r.text);
    expect(r.timeToFirstTokenSeconds).toBeGreaterThan(0);
  });

  test('draws latency from a realistic distribution (median TTFT ~0.18 s)', async () => {
    const p = new SimulatedProvider({ seed: 3, latencyScale: 0.05 });
    const ttfts: number[] = [];
    await Promise.all(
      Array.from({ length: 40 }, async (_, i) => {
        const r = await p.chatStream({ messages: [{ role: 'user', content: `q${i}` }] }, () => undefined);
        ttfts.push(r.timeToFirstTokenSeconds! / 0.05);
      }),
    );
    ttfts.sort((a, b) => a - b);
    const median = ttfts[20];
    expect(median).toBeGreaterThan(0.08);
    expect(median).toBeLessThan(0.5);
  });

  test('fails at the configured error rate with typed errors', async () => {
    const p = new SimulatedProvider({ seed: 5, errorRate: 0.5, latencyScale: 0 });
    const outcomes = await Promise.allSettled(Array.from({ length: 200 }, (_, i) => p.chat(request(`task ${i}`))));
    const failed = outcomes.filter((o) => o.status === 'rejected') as PromiseRejectedResult[];
    expect(failed.length).toBeGreaterThan(70);
    expect(failed.length).toBeLessThan(130);
    for (const f of failed) expect(f.reason).toBeInstanceOf(LlmError);
    expect(new Set(failed.map((f) => (f.reason as LlmError).type))).toEqual(
      new Set(['rate_limit_exceeded', 'timeout', 'server_error', 'invalid_request']),
    );
    // About a quarter of the failures are permanent; rate limits carry a Retry-After.
    const permanent = failed.filter((f) => (f.reason as LlmError).type === 'invalid_request').length;
    expect(permanent).toBeGreaterThan(failed.length * 0.1);
    expect(permanent).toBeLessThan(failed.length * 0.45);
    const limited = failed.map((f) => f.reason as LlmError).filter((e) => e.type === 'rate_limit_exceeded');
    for (const e of limited) expect(e.retryAfterMs).toBeGreaterThanOrEqual(0);
  });

  test('draws faults per attempt: a failed attempt may succeed when retried, the answer stays the same', async () => {
    const p = new SimulatedProvider({ seed: 11, errorRate: 0.5, permanentShare: 0, latencyScale: 0 });
    const ok = new SimulatedProvider({ seed: 11, latencyScale: 0 });
    let recovered = 0;
    for (let i = 0; i < 40; i++) {
      const r = request(`task ${i}`);
      const first = await p.chat(r, { attempt: 1 }).catch(() => undefined);
      if (first) continue;
      for (let attempt = 2; attempt <= 8; attempt++) {
        const again = await p.chat(r, { attempt }).catch(() => undefined);
        if (again) {
          expect(again).toEqual(await ok.chat(r));
          recovered++;
          break;
        }
      }
    }
    expect(recovered).toBeGreaterThan(5);
  });

  test('honours an abort signal', async () => {
    const p = new SimulatedProvider({ latencyScale: 10 });
    const ac = new AbortController();
    const pending = p.chat(request('slow'), { signal: ac.signal });
    ac.abort();
    await expect(pending).rejects.toMatchObject({ type: 'aborted' });
  });

  test('rejects invalid options', () => {
    expect(() => new SimulatedProvider({ errorRate: 2 })).toThrow(/errorRate must be in \[0, 1\]/);
    expect(() => new SimulatedProvider({ latencyScale: -1 })).toThrow(/latencyScale/);
  });

  test('the task generator and the planner cover every tool', () => {
    const names = new Set(generateTasks(60, 9).flatMap((t) => planToolCalls(t, createRng(1)).map((c) => c.name)));
    expect(names).toEqual(new Set(['calculator', 'knowledge_base', 'embedding']));
    expect(generateTasks(5, 9)).toEqual(generateTasks(5, 9));
  });
});
