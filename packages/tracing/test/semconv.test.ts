// Our copy of the incubating GenAI names equals the package's own (a rename upstream fails here).
import * as incubating from '@opentelemetry/semantic-conventions/incubating';
import * as ours from '../src/semconv';

test('every copied semantic-convention constant equals @opentelemetry/semantic-conventions/incubating', () => {
  for (const [name, value] of Object.entries(ours))
    expect({ name, value }).toEqual({ name, value: (incubating as Record<string, unknown>)[name] });
  expect(Object.keys(ours).length).toBeGreaterThan(3);
});
