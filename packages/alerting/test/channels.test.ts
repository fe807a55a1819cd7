// Channels against real peers on loopback: webhook payloads (JSON, Slack, PagerDuty Events v2),
// the HMAC signature, retries with backoff, timeouts, the bounded queue; email over SMTP.
import { createHmac } from 'node:crypto';
import { createMetrics, type Metrics } from '@periscope/metrics';
import { createAlertManager, type AlertManager, type ChannelConfig } from '../src';
import { startHttpReceiver, startSmtpSink, type HttpReceiver, type SmtpSink } from './receivers';

let metrics: Metrics;
let manager: AlertManager | undefined;
let receiver: HttpReceiver;

beforeEach(async () => {
  metrics = createMetrics();
  receiver = await startHttpReceiver();
});
afterEach(async () => {
  await manager?.close();
  manager = undefined;
  await receiver.close();
  await metrics.close();
});

function setup(channel: ChannelConfig, value = 99) {
  const g = metrics.gauge({ name: 'disk_used_ratio', help: 'd', labelNames: ['mount'] as const });
  g.set({ mount: '/data' }, value);
  manager = createAlertManager({
    metrics,
    evaluateEveryMs: 0,
    channels: [channel],
    env: {},
    externalUrl: 'http://agent.test:8080',
    rules: [
      {
        name: 'DiskFull',
        expr: 'disk_used_ratio > 90',
        severity: 'critical',
        annotations: {
          summary: 'disk {{ $labels.mount }} full',
          description: 'at {{ $value }}%',
          runbookUrl: 'https://runbooks.test/disk',
        },
      },
    ],
  });
  return { g, m: manager };
}

describe('webhook channel', () => {
  it('posts Alertmanager-style JSON with an HMAC signature a receiver can verify', async () => {
    const { g, m } = setup({ type: 'webhook', url: `${receiver.url}/hook`, secret: 'hunter2' });
    m.evaluate();
    const [req] = await receiver.waitFor(1);
    expect(req.method).toBe('POST');
    expect(req.url).toBe('/hook');
    const ts = req.headers['x-periscope-timestamp'] as string;
    const expected = `sha256=${createHmac('sha256', 'hunter2').update(`${ts}.${req.body}`).digest('hex')}`;
    expect(req.headers['x-periscope-signature']).toBe(expected);
    const body = JSON.parse(req.body);
    expect(body).toMatchObject({
      version: '4',
      status: 'firing',
      groupLabels: { alertname: 'DiskFull' },
      alerts: [
        {
          status: 'firing',
          labels: { alertname: 'DiskFull', mount: '/data', severity: 'critical' },
          annotations: { summary: 'disk /data full', description: 'at 99%', runbook_url: 'https://runbooks.test/disk' },
        },
      ],
    });
    g.set({ mount: '/data' }, 10);
    m.evaluate();
    const reqs = await receiver.waitFor(2);
    expect(JSON.parse(reqs[1].body)).toMatchObject({ status: 'resolved', alerts: [{ status: 'resolved' }] });
  });

  it('sends Slack-compatible messages', async () => {
    const { m } = setup({ type: 'webhook', url: receiver.url, format: 'slack' });
    m.evaluate();
    const [req] = await receiver.waitFor(1);
    const body = JSON.parse(req.body);
    expect(body.text).toBe('[FIRING:1] DiskFull');
    expect(body.attachments[0]).toMatchObject({
      color: '#d62728',
      title: 'Firing: disk /data full',
      title_link: 'https://runbooks.test/disk',
    });
  });

  it('sends PagerDuty Events v2 trigger and resolve with the same dedup_key', async () => {
    const { g, m } = setup({
      type: 'webhook',
      url: `${receiver.url}/v2/enqueue`,
      format: 'pagerduty',
      routingKey: 'R0UT1NGKEY',
    });
    m.evaluate();
    g.set({ mount: '/data' }, 1);
    m.evaluate();
    const [trigger, resolve] = (await receiver.waitFor(2)).map((r) => JSON.parse(r.body));
    expect(trigger).toMatchObject({
      routing_key: 'R0UT1NGKEY',
      event_action: 'trigger',
      payload: { summary: 'disk /data full', severity: 'critical', source: 'http://agent.test:8080' },
      links: [{ href: 'https://runbooks.test/disk' }],
    });
    expect(resolve).toEqual({ routing_key: 'R0UT1NGKEY', event_action: 'resolve', dedup_key: trigger.dedup_key });
  });

  it('retries with backoff until the receiver accepts', async () => {
    receiver.respond = (_r, i) => (i < 2 ? 503 : 200);
    const { m } = setup({ type: 'webhook', url: receiver.url, retries: 3, backoffMs: 20 });
    m.evaluate();
    await receiver.waitFor(3);
    await m.flush();
    expect(m.channelStats().webhook).toMatchObject({ sent: 1, retried: 2, failed: 0 });
  });

  it('gives up after the retries on a receiver that never answers, without blocking evaluation', async () => {
    receiver.respond = () => 'hang';
    const { g, m } = setup({ type: 'webhook', url: receiver.url, retries: 1, backoffMs: 10, timeoutMs: 400 });
    const started = Date.now();
    m.evaluate();
    g.set({ mount: '/data' }, 1);
    m.evaluate();
    expect(Date.now() - started).toBeLessThan(400); // one timed-out attempt alone takes 400 ms
    await m.flush();
    expect(m.channelStats().webhook).toMatchObject({ sent: 0, failed: 2, retried: 2 });
    expect(m.channelStats().webhook.lastError).toMatch(/no answer .* within 400 ms/);
  });

  it('bounds the queue: beyond maxQueue the oldest notification is dropped and counted', async () => {
    receiver.respond = () => 'hang';
    const { g, m } = setup({ type: 'webhook', url: receiver.url, retries: 0, timeoutMs: 300, maxQueue: 2 });
    for (let i = 0; i < 6; i++) {
      g.set({ mount: '/data' }, i % 2 === 0 ? 99 : 1);
      m.evaluate();
      await new Promise((r) => setTimeout(r, 5)); // history samples are keyed by the millisecond
    }
    await m.flush();
    const stats = m.channelStats().webhook;
    expect(stats.dropped).toBe(3);
    expect(stats.failed).toBe(3);
  });

  it('rejects a pagerduty webhook without a routing key at creation', () => {
    expect(() =>
      createAlertManager({
        channels: [{ type: 'webhook', url: receiver.url, format: 'pagerduty' }],
        env: {},
        evaluateEveryMs: 0,
      }),
    ).toThrow(/routingKey/);
  });
});

describe('email channel', () => {
  let sink: SmtpSink;
  beforeEach(async () => {
    sink = await startSmtpSink();
  });
  afterEach(() => sink.close());

  it('delivers a firing and a resolved message over SMTP with AUTH PLAIN', async () => {
    const { g, m } = setup({
      type: 'email',
      smtp: { host: '127.0.0.1', port: sink.port, user: 'alerts', password: 's3cret' },
      from: 'periscope@agent.test',
      to: ['oncall@team.test', 'lead@team.test'],
    });
    m.evaluate();
    const [first] = await sink.waitFor(1);
    expect(first).toMatchObject({
      from: 'periscope@agent.test',
      to: ['oncall@team.test', 'lead@team.test'],
      auth: 'alerts',
    });
    expect(first.data).toContain('Subject: [periscope] [FIRING:1] DiskFull');
    expect(first.data).toContain('FIRING: disk /data full');
    expect(first.data).toContain('runbook: https://runbooks.test/disk');
    g.set({ mount: '/data' }, 2);
    m.evaluate();
    const msgs = await sink.waitFor(2);
    expect(msgs[1].data).toContain('Subject: [periscope] [RESOLVED:1] DiskFull');
  });

  it('counts a refused login as a failed delivery', async () => {
    const { m } = setup({
      type: 'email',
      smtp: { host: '127.0.0.1', port: sink.port, user: 'alerts', password: 'wrong' },
      from: 'a@b.test',
      to: 'c@d.test',
      retries: 0,
    });
    m.evaluate();
    await m.flush();
    expect(m.channelStats().email).toMatchObject({ sent: 0, failed: 1 });
    expect(m.channelStats().email.lastError).toMatch(/AUTH refused: 535/);
  });
});

describe('console channel', () => {
  it('writes one line per alert', async () => {
    const lines: string[] = [];
    const { m } = setup({ type: 'console', stream: { write: (t: string) => lines.push(t) } });
    m.evaluate();
    await m.flush();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\[alert\] FIRING DiskFull severity=critical value=99 disk \/data full/);
  });
});
