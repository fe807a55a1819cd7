import fc from 'fast-check';
import { HttpError } from '@periscope/health';
import type { LogAlert } from '@periscope/logging';
import { LogAlertRelay, secondsParameter } from '../src/observability';

const q = (seconds?: string) => new URLSearchParams(seconds === undefined ? '' : { seconds });

test('?seconds= takes an integer from 1 to 300, defaulting per endpoint', () => {
  expect(secondsParameter(q())).toBe(30);
  expect(secondsParameter(q(), 10)).toBe(10);
  fc.assert(fc.property(fc.integer({ min: 1, max: 300 }), (n) => secondsParameter(q(String(n))) === n));
});

test('any other ?seconds= is a 400 that names the parameter', () => {
  const valid = (s: string) => /^\d+$/.test(s) && Number(s) >= 1 && Number(s) <= 300;
  fc.assert(
    fc.property(
      fc.oneof(fc.string(), fc.integer().map(String), fc.double().map(String)).filter((s) => !valid(s)),
      (s) => {
        try {
          secondsParameter(q(s));
          return false;
        } catch (err) {
          return err instanceof HttpError && err.statusCode === 400 && err.message.includes('"seconds"');
        }
      },
    ),
  );
});

const alert = (pattern: string): LogAlert => ({
  id: `log:${pattern}`,
  pattern,
  severity: 'warning',
  description: pattern,
  message: 'm',
  level: 'warn',
  service: 'demo',
  count: 1,
  firstSeen: 0,
  lastSeen: 0,
});

test('the log-alert relay hands alerts raised before the manager exists over on connect, then forwards', () => {
  const relay = new LogAlertRelay();
  relay.onAlert(alert('connection_error'));
  const seen: string[] = [];
  relay.connect((a) => seen.push(a.pattern));
  relay.onAlert(alert('out_of_memory'));
  expect(seen).toEqual(['connection_error', 'out_of_memory']);
});
