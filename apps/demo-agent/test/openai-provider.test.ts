import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { freePort } from '@periscope-tools/testing';
import { OpenAiProvider, retryAfterMs } from '../src/llm/openai';
import { LlmError } from '../src/llm/provider';

// A local OpenAI-compatible server: records requests, answers per test.
let server: http.Server;
let baseUrl: string;
let handler: (body: Record<string, unknown>, req: http.IncomingMessage, res: http.ServerResponse) => void;
const seen: { body: Record<string, unknown>; auth?: string; path?: string }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d) => (raw += d));
    req.on('end', () => {
      const body = JSON.parse(raw);
      seen.push({ body, auth: req.headers.authorization, path: req.url });
      handler(body, req, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => (seen.length = 0));

const json = (res: http.ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};

test('sends messages and tools in the chat-completions shape and parses tool calls and usage', async () => {
  handler = (_b, _q, res) =>
    json(res, 200, {
      model: 'gpt-4o-mini-2024',
      choices: [
        {
          finish_reason: 'tool_calls',
          message: {
            role: 'assistant',
            content: null,
            tool_calls: [
              { id: 'call_1', type: 'function', function: { name: 'calculator', arguments: '{"expression":"2+2"}' } },
            ],
          },
        },
      ],
      usage: { prompt_tokens: 31, completion_tokens: 9 },
    });
  const p = new OpenAiProvider({ baseUrl, apiKey: 'sk-test-secret-123456', model: 'gpt-4o-mini' });
  const r = await p.chat({
    messages: [
      { role: 'user', content: 'What is 2+2?' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'c0', name: 'x', arguments: { a: 1 } }] },
      { role: 'tool', toolCallId: 'c0', content: 'ok' },
    ],
    tools: [{ name: 'calculator', description: 'math', parameters: { type: 'object' } }],
  });
  expect(seen[0].path).toBe('/v1/chat/completions');
  expect(seen[0].auth).toBe('Bearer sk-test-secret-123456');
  expect(seen[0].body).toMatchObject({
    model: 'gpt-4o-mini',
    messages: [
      { role: 'user', content: 'What is 2+2?' },
      {
        role: 'assistant',
        tool_calls: [{ id: 'c0', type: 'function', function: { name: 'x', arguments: '{"a":1}' } }],
      },
      { role: 'tool', tool_call_id: 'c0', content: 'ok' },
    ],
    tools: [{ type: 'function', function: { name: 'calculator' } }],
  });
  expect(r).toMatchObject({
    model: 'gpt-4o-mini-2024',
    finishReason: 'tool_calls',
    usage: { inputTokens: 31, outputTokens: 9 },
  });
  expect(r.toolCalls).toEqual([{ id: 'call_1', name: 'calculator', arguments: { expression: '2+2' } }]);
});

test('streams server-sent events: tokens in order, usage from the last chunk, time to first token', async () => {
  handler = (body, _q, res) => {
    expect(body.stream).toBe(true);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const chunks = ['Hel', 'lo ', 'world'];
    let i = 0;
    const tick = () => {
      if (i < chunks.length) {
        res.write(`data: ${JSON.stringify({ model: 'm1', choices: [{ delta: { content: chunks[i++] } }] })}\n\n`);
        setTimeout(tick, 5);
      } else {
        res.write(`data: ${JSON.stringify({ choices: [{ delta: {}, finish_reason: 'stop' }] })}\n\n`);
        res.write(`data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 5, completion_tokens: 3 } })}\n\n`);
        res.end('data: [DONE]\n\n');
      }
    };
    tick();
  };
  const tokens: string[] = [];
  const r = await new OpenAiProvider({ baseUrl, model: 'm1' }).chatStream(
    { messages: [{ role: 'user', content: 'hi' }] },
    (t) => tokens.push(t),
  );
  expect(tokens).toEqual(['Hel', 'lo ', 'world']);
  expect(r).toMatchObject({
    text: 'Hello world',
    usage: { inputTokens: 5, outputTokens: 3 },
    finishReason: 'stop',
    model: 'm1',
  });
  expect(r.timeToFirstTokenSeconds).toBeGreaterThan(0);
});

test('assembles streamed tool-call fragments', async () => {
  handler = (_b, _q, res) => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(
      `data: ${JSON.stringify({ choices: [{ delta: { tool_calls: [{ index: 0, id: 'call_9', function: { name: 'calculator', arguments: '{"expr' } }] } }] })}\n\n`,
    );
    res.write(
      `data: ${JSON.stringify({ choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: 'ession":"1+1"}' } }] }, finish_reason: 'tool_calls' }] })}\n\n`,
    );
    res.end('data: [DONE]\n\n');
  };
  const r = await new OpenAiProvider({ baseUrl, model: 'm' }).chatStream(
    { messages: [{ role: 'user', content: 'x' }] },
    () => undefined,
  );
  expect(r.toolCalls).toEqual([{ id: 'call_9', name: 'calculator', arguments: { expression: '1+1' } }]);
});

test.each([
  [429, 'rate_limit_exceeded'],
  [401, 'authentication_error'],
  [503, 'server_error'],
  [400, 'invalid_request'],
])('HTTP %d becomes a typed LlmError %s without leaking the API key', async (status, type) => {
  handler = (_b, _q, res) => json(res, status, { error: { message: 'nope' } });
  const err = await new OpenAiProvider({ baseUrl, apiKey: 'sk-live-abcdef123456', model: 'm' })
    .chat({ messages: [{ role: 'user', content: 'x' }] })
    .catch((e) => e);
  expect(err).toBeInstanceOf(LlmError);
  expect(err.type).toBe(type);
  expect(`${err.message} ${err.stack}`).not.toContain('sk-live-abcdef123456');
});

test('malformed tool-call JSON is a typed invalid_response error', async () => {
  handler = (_b, _q, res) =>
    json(res, 200, {
      choices: [{ message: { tool_calls: [{ id: 'a', function: { name: 't', arguments: '{not json' } }] } }],
    });
  await expect(
    new OpenAiProvider({ baseUrl, model: 'm' }).chat({ messages: [{ role: 'user', content: 'x' }] }),
  ).rejects.toMatchObject({ type: 'invalid_response' });
});

test('a 429 is a rate_limit_exceeded error carrying the Retry-After wait', async () => {
  handler = (_b, _q, res) => {
    res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '2' });
    res.end('{"error":{"message":"slow down"}}');
  };
  const err = await new OpenAiProvider({ baseUrl, model: 'm' })
    .chat({ messages: [{ role: 'user', content: 'x' }] })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(LlmError);
  expect(err).toMatchObject({ type: 'rate_limit_exceeded', retryAfterMs: 2000, code: 'ERR_DEMO_LLM' });
  expect(retryAfterMs(new Headers({ 'retry-after-ms': '150' }))).toBe(150);
  expect(
    retryAfterMs(new Headers({ 'retry-after': 'Wed, 21 Oct 2015 07:28:10 GMT' }), Date.UTC(2015, 9, 21, 7, 28, 0)),
  ).toBe(10_000);
  expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }))).toBeUndefined();
});

test('rejects an invalid base URL at construction', () => {
  expect(() => new OpenAiProvider({ baseUrl: 'not a url', model: 'm' })).toThrow(/OPENAI_BASE_URL/);
  expect(() => new OpenAiProvider({ baseUrl: 'ftp://x', model: 'm' })).toThrow(/http\(s\)/);
});

// Last: it leaves a request hanging, which only closeAllConnections ends.
test('times out slow providers and reports connection failures as typed errors', async () => {
  handler = () => undefined; // never answers
  const slow = await new OpenAiProvider({ baseUrl, model: 'm', timeoutMs: 100 })
    .chat({ messages: [{ role: 'user', content: 'x' }] })
    .catch((e) => e);
  expect(slow).toMatchObject({ type: 'timeout' });
  const down = await new OpenAiProvider({ baseUrl: `http://127.0.0.1:${await freePort()}/v1`, model: 'm' })
    .chat({ messages: [{ role: 'user', content: 'x' }] })
    .catch((e) => e);
  expect(down).toMatchObject({ type: 'connection_error' });
  server.closeAllConnections();
});
