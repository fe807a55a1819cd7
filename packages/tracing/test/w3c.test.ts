// The official W3C Trace Context test suite (vendored in test/conformance/w3c-trace-context, see
// its README for the pinned commit and license) against a test service written with the public
// API only: wrapHttpHandler() continues the incoming context, tracedFetch() propagates it to
// every callback the harness asks for. Run with Debian's python3 and python3-aiohttp.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { startTracing, tracedFetch, wrapHttpHandler, type Tracing } from '../src';

const PYTHON = '/usr/bin/python3';
const SUITE = path.join(__dirname, 'conformance/w3c-trace-context/test/test.py');

interface Step {
  url: string;
  arguments: Step[];
}

let tracing: Tracing;
let server: http.Server;
let serviceUrl: string;
const fetchWithContext = tracedFetch();

beforeAll(async () => {
  tracing = startTracing({ serviceName: 'w3c-test-service', exporter: 'memory' });
  const handler = wrapHttpHandler(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const steps = JSON.parse(Buffer.concat(chunks).toString('utf8') || '[]') as Step[];
    for (const step of steps) {
      const reply = await fetchWithContext(step.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', connection: 'close' },
        body: JSON.stringify(step.arguments),
      });
      await reply.arrayBuffer();
    }
    res.writeHead(200, { 'content-type': 'application/json', connection: 'close' }).end('{}');
  });
  server = http.createServer((req, res) => void handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serviceUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/test`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await tracing.close();
});

async function freePort(): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

async function runSuite(strict: number, spec: number): Promise<{ code: number; output: string }> {
  if (!existsSync(PYTHON)) throw new Error(`${PYTHON} not found: apt-get install python3 python3-aiohttp`);
  const port = await freePort();
  return new Promise((resolve) => {
    execFile(
      PYTHON,
      [SUITE, serviceUrl],
      {
        cwd: path.dirname(SUITE),
        timeout: 150_000,
        env: { ...process.env, STRICT_LEVEL: String(strict), SPEC_LEVEL: String(spec), HARNESS_PORT: String(port) },
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, output: `${stdout}\n${stderr}` });
      },
    );
  });
}

describe.each([
  [1, 1],
  [2, 1],
  [1, 2],
  [2, 2],
])('W3C trace-context suite at STRICT_LEVEL=%i SPEC_LEVEL=%i', (strict, spec) => {
  test('every test passes', async () => {
    const { code, output } = await runSuite(strict, spec);
    if (/No module named 'aiohttp'/.test(output))
      throw new Error('python3-aiohttp is missing: apt-get install python3-aiohttp');
    const failures = output.split('\n').filter((l) => /\.\.\. (FAIL|ERROR)$|^(FAIL|ERROR):/.test(l));
    expect(failures).toEqual([]);
    expect(output).toMatch(/^OK/m);
    expect(code).toBe(0);
  }, 160_000);
});
