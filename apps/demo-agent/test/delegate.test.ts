// The delegate tool against a real HTTP peer: the sub-task goes to POST /tasks, the answer comes
// back bounded, and every failure is a DelegationError the agent reports to the model.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createDelegateTool,
  DELEGATION_DEPTH_HEADER,
  delegationDepth,
  DelegationError,
  MAX_DELEGATION_DEPTH,
  parseDelegationDepth,
} from '../src/tools/delegate';
import { planToolCalls } from '../src/llm/simulated';
import { createRng } from '../src/random';

let server: http.Server;
let peer: string;
let answer: (body: string, res: http.ServerResponse) => void;
const seen: { path: string; body: string; depth?: string }[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      seen.push({ path: `${req.method} ${req.url}`, body, depth: req.headers[DELEGATION_DEPTH_HEADER] as string });
      answer(body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  peer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

test("posts the sub-task to the peer's /tasks and returns its answer", async () => {
  answer = (_body, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"answer":"42"}');
  const tool = createDelegateTool({ peerUrl: `${peer}/` });
  await expect(tool.run({ task: 'compute 6 * 7' })).resolves.toBe('42');
  expect(seen.at(-1)).toEqual({ path: 'POST /tasks', body: '{"prompt":"compute 6 * 7"}', depth: '1' });
});

test('each hop sends its depth + 1, and a task at the depth limit is not delegated again (no ping-pong between peers)', async () => {
  answer = (_body, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"answer":"ok"}');
  const tool = createDelegateTool({ peerUrl: peer });
  const before = seen.length;
  await expect(delegationDepth.run(1, () => tool.run({ task: 'one more hop' }))).resolves.toBe('ok');
  expect(seen.at(-1)?.depth).toBe('2');
  await expect(delegationDepth.run(MAX_DELEGATION_DEPTH, () => tool.run({ task: 'again' }))).rejects.toThrow(
    /already delegated 2 times/,
  );
  expect(seen.length).toBe(before + 1);
  // The header is input from the network: garbage counts as depth 0, never as a way around the limit.
  expect([undefined, '', 'x', '-1', '1e9', '2', ['3', '0']].map((h) => parseDelegationDepth(h))).toEqual([
    0, 0, 0, 0, 0, 2, 3,
  ]);
});

test('a long answer is cut; a failed or oversized answer and an unreachable peer are DelegationErrors', async () => {
  const tool = createDelegateTool({ peerUrl: peer });
  answer = (_b, res) => res.writeHead(200).end(JSON.stringify({ answer: 'x'.repeat(10_000) }));
  expect(await tool.run({ task: 't' })).toHaveLength(2000);
  answer = (_b, res) => res.writeHead(429).end('{"error":"too many tasks queued"}');
  await expect(tool.run({ task: 't' })).rejects.toThrow('the peer agent answered 429: too many tasks queued');
  answer = (_b, res) => res.writeHead(200).end('x'.repeat(200 * 1024));
  await expect(tool.run({ task: 't' })).rejects.toThrow(DelegationError);
  await expect(tool.run({ task: '' })).rejects.toThrow("argument 'task' must be a non-empty string");
  const closed = createDelegateTool({ peerUrl: 'http://127.0.0.1:1' });
  await expect(closed.run({ task: 't' })).rejects.toThrow('could not be reached');
});

test('the simulated model delegates what follows "delegate:" (and nothing without the marker)', () => {
  const calls = planToolCalls('Compute 1 + 1, then delegate: search the docs about redis', createRng(1));
  expect(calls[0]).toMatchObject({ name: 'delegate', arguments: { task: 'search the docs about redis' } });
  expect(planToolCalls('search the docs about delegates', createRng(1)).map((c) => c.name)).not.toContain('delegate');
});
