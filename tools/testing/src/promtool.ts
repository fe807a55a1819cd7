// Prometheus' own exposition parser as a test oracle: `promtool check metrics` reads the text on
// stdin. A test that needs it fails (never skips) when it is missing, with how to install it.
import { spawnSync } from 'node:child_process';

export function promtoolPath(): string {
  const found = spawnSync('sh', ['-c', 'command -v promtool'], { encoding: 'utf8' }).stdout.trim();
  if (!found) throw new Error('promtool is not installed: apt-get install prometheus (CI installs it in .ci/run)');
  return found;
}

/**
 * Runs `promtool check metrics`. Exit 1 is a parse error (thrown); exit 3 means it parsed but has
 * lint findings (returned, one per line, for the test to judge); exit 0 returns ''.
 */
export function promtoolCheckMetrics(exposition: string): string {
  const r = spawnSync(promtoolPath(), ['check', 'metrics'], { input: exposition, encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`.trim();
  if (r.status === 0 || r.status === 3) return out;
  throw new Error(`promtool rejected the exposition (exit ${r.status}): ${out}`);
}
