import { createMetrics } from '../src';

test('a labelled counter appears in the exposition', async () => {
  const m = createMetrics();
  const c = m.counter({ name: 'periscope_demo_requests_total', help: 'requests', labelNames: ['route'] as const });
  c.labels({ route: '/x' }).inc();
  c.inc({ route: '/y' }, 2);
  const { body } = await m.expose();
  expect(body).toContain('periscope_demo_requests_total{route="/x"} 1');
  expect(body).toContain('periscope_demo_requests_total{route="/y"} 2');
});
