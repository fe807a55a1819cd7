import { argsKey, canonicalJson, CacheInputError, llmCacheKey } from '../src';

describe('canonical keys', () => {
  it('property order does not change the canonical form', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 2], c: 'x' } })).toBe(canonicalJson({ a: { c: 'x', d: [1, 2] }, b: 1 }));
  });

  it('different values give different forms, including types JSON would merge', () => {
    const forms = [
      1,
      '1',
      [1],
      { a: 1 },
      new Date(0),
      new Map([['a', 1]]),
      new Set([1]),
      Buffer.from('1'),
      new Float32Array([1]),
      1n,
      Number.NaN,
      null,
    ].map(canonicalJson);
    expect(new Set(forms).size).toBe(forms.length);
  });

  it('Maps and Sets are order-insensitive', () => {
    expect(
      canonicalJson(
        new Map([
          ['a', 1],
          ['b', 2],
        ]),
      ),
    ).toBe(
      canonicalJson(
        new Map([
          ['b', 2],
          ['a', 1],
        ]),
      ),
    );
    expect(canonicalJson(new Set([1, 2]))).toBe(canonicalJson(new Set([2, 1])));
  });

  it('functions, symbols and cycles are typed errors', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [() => 1, Symbol('s'), cyclic]) expect(() => canonicalJson({ x: bad })).toThrow(CacheInputError);
  });

  it('argsKey is prefix + 64 hex chars of SHA-256', () => {
    expect(argsKey('search', [{ q: 'a' }])).toMatch(/^search:[0-9a-f]{64}$/);
    expect(argsKey('search', [{ q: 'a' }])).not.toBe(argsKey('search', [{ q: 'b' }]));
  });
});

describe('llmCacheKey', () => {
  const messages = [{ role: 'user', content: 'What is 2+2?' }];

  it('is stable under parameter order and names the model', () => {
    const a = llmCacheKey({ model: 'gpt-x', params: { temperature: 0, max_tokens: 10 }, messages });
    const b = llmCacheKey({
      model: 'gpt-x',
      params: { max_tokens: 10, temperature: 0 },
      messages: [{ content: 'What is 2+2?', role: 'user' }],
    });
    expect(a).toBe(b);
    expect(a).toMatch(/^llm:gpt-x:[0-9a-f]{64}$/);
  });

  it('changes with the model, any parameter, or any message', () => {
    const base = llmCacheKey({ model: 'm', params: { temperature: 0 }, messages });
    expect(llmCacheKey({ model: 'm2', params: { temperature: 0 }, messages })).not.toBe(base);
    expect(llmCacheKey({ model: 'm', params: { temperature: 0.1 }, messages })).not.toBe(base);
    expect(
      llmCacheKey({
        model: 'm',
        params: { temperature: 0 },
        messages: [...messages, { role: 'assistant', content: '4' }],
      }),
    ).not.toBe(base);
  });

  it('rejects a missing model or messages with a typed error', () => {
    expect(() => llmCacheKey({ model: '', messages })).toThrow(CacheInputError);
    expect(() => llmCacheKey({ model: 'm', messages: 'hi' as never })).toThrow(CacheInputError);
  });
});
