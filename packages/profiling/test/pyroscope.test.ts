// Push to a local Pyroscope-like receiver that parses the multipart form and decodes the pprof.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { Profile } from 'pprof-format';
import { CpuProfile, ProfilingConfigError, createPyroscopeExporter, pyroscopeName } from '../src';
import { synthProfile } from './helpers';

interface Received {
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  profile: Profile;
}

async function receiver(statuses: number[] = []) {
  const received: Received[] = [];
  let calls = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const status = statuses[calls++] ?? 200;
      if (status === 200) {
        const body = Buffer.concat(chunks);
        const boundary = /boundary=(.+)$/.exec(req.headers['content-type'] ?? '')![1];
        const start = body.indexOf('\r\n\r\n') + 4;
        const end = body.indexOf(Buffer.from(`\r\n--${boundary}--`));
        const profile = Profile.decode(gunzipSync(body.subarray(start, end)));
        received.push({ query: new URL(req.url!, 'http://x').searchParams, headers: req.headers, profile });
      }
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    received,
    calls: () => calls,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

const sample = (label: string) =>
  CpuProfile.fromCpuprofile(
    synthProfile([{ stack: [{ name: 'handler', url: 'file:///app.js', line: 3 }], deltaUs: 10 }], 5000),
    {
      startedAt: 1_700_000_000_000,
      labels: { window: label },
    },
  );

describe('Pyroscope push', () => {
  test('sends pprof to /ingest with name, tags, range and auth; the receiver decodes it', async () => {
    const rx = await receiver();
    const exporter = createPyroscopeExporter({
      url: rx.url,
      appName: 'agent',
      tags: { region: 'eu west' },
      authToken: 's3cret',
      flushIntervalMs: 3_600_000,
    });
    try {
      exporter.push(sample('1'));
      exporter.push(sample('2'));
      await exporter.flush();
      expect(rx.received).toHaveLength(2);
      const [first] = rx.received;
      expect(first.query.get('name')).toBe('agent.cpu{region=eu_west,window=1}');
      expect(first.query.get('from')).toBe('1700000000');
      expect(first.query.get('format')).toBe('pprof');
      expect(first.headers.authorization).toBe('Bearer s3cret');
      const names = first.profile.function.map((f) => first.profile.stringTable.strings[Number(f.name)]);
      expect(names).toContain('handler');
      expect(exporter.stats()).toEqual({ sent: 2, dropped: 0, failed: 0, queued: 0 });
    } finally {
      await exporter.close();
      await rx.close();
    }
  });

  test('retries with backoff after 503s, keeps order, then delivers', async () => {
    const rx = await receiver([503, 503]);
    const exporter = createPyroscopeExporter({
      url: rx.url,
      flushIntervalMs: 3_600_000,
      backoffMs: 10,
      maxBackoffMs: 40,
    });
    try {
      exporter.push(sample('a'));
      exporter.push(sample('b'));
      await exporter.flush();
      expect(exporter.stats()).toMatchObject({ failed: 1, queued: 2 });
      await exporter.flush(); // still inside the backoff: nothing is sent
      expect(rx.calls()).toBe(1);
      for (let i = 0; i < 50 && exporter.stats().queued > 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
        await exporter.flush();
      }
      expect(rx.received.map((r) => r.query.get('name'))).toEqual([
        'periscope.cpu{window=a}',
        'periscope.cpu{window=b}',
      ]);
      expect(exporter.stats()).toMatchObject({ sent: 2, failed: 2, queued: 0 });
    } finally {
      await exporter.close();
      await rx.close();
    }
  });
});

describe('Pyroscope push: bounds and failures', () => {
  test('the queue is bounded: the oldest profiles are dropped and counted', async () => {
    const rx = await receiver();
    const exporter = createPyroscopeExporter({ url: rx.url, maxQueue: 2, flushIntervalMs: 3_600_000 });
    try {
      for (const w of ['1', '2', '3', '4', '5']) exporter.push(sample(w));
      expect(exporter.stats()).toMatchObject({ dropped: 3, queued: 2 });
      await exporter.flush();
      expect(rx.received.map((r) => r.query.get('name'))).toEqual([
        'periscope.cpu{window=4}',
        'periscope.cpu{window=5}',
      ]);
    } finally {
      await exporter.close();
      await rx.close();
    }
  });

  test('a 400 drops the profile; close() is bounded when the server never answers; no secret in errors', async () => {
    const rx = await receiver([400, 200]);
    const logged: string[] = [];
    const logger = {
      debug() {},
      info() {},
      warn: (m: string, f?: object) => logged.push(m + JSON.stringify(f)),
      error() {},
    };
    const withCreds = rx.url.replace('http://', 'http://user:hunter2@');
    const exporter = createPyroscopeExporter({ url: withCreds, flushIntervalMs: 3_600_000, backoffMs: 1, logger });
    exporter.push(sample('x'));
    await exporter.flush();
    expect(exporter.stats()).toMatchObject({ failed: 1, queued: 0 });
    expect(logged.join('\n')).not.toContain('hunter2');
    expect(logged.join('\n')).toContain('400');
    await new Promise((r) => setTimeout(r, 20)); // past the 1 ms backoff
    exporter.push(sample('z'));
    await exporter.flush();
    expect(rx.received[0].headers.authorization).toBe(`Basic ${Buffer.from('user:hunter2').toString('base64')}`);
    await exporter.close();
    await rx.close();

    const hang = http.createServer(() => undefined);
    await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
    const slow = createPyroscopeExporter({
      url: `http://127.0.0.1:${(hang.address() as AddressInfo).port}`,
      timeoutMs: 200,
      flushIntervalMs: 3_600_000,
    });
    slow.push(sample('y'));
    const t0 = Date.now();
    await slow.close();
    expect(Date.now() - t0).toBeLessThan(5_000);
    hang.closeAllConnections();
    await new Promise<void>((r) => hang.close(() => r()));
  });

  test('options: url required and checked; names are sanitized', () => {
    expect(() => createPyroscopeExporter({})).toThrow(ProfilingConfigError);
    expect(() => createPyroscopeExporter({ url: 'ftp://x' })).toThrow(/invalid pyroscope\.url/);
    expect(pyroscopeName('my app', { 'k-1': 'a,b}{=c' })).toBe('my_app{k_1=a_b___c}');
  });
});
