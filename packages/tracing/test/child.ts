// Runs a TypeScript fixture in a child Node process (through tsx) and returns its stdout.
import { execFile } from 'node:child_process';
import path from 'node:path';

export function runFixture(name: string, env: Record<string, string>, timeoutMs = 20_000): Promise<string> {
  const file = path.join(__dirname, 'fixtures', name);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', file],
      { env: { ...process.env, ...env }, timeout: timeoutMs },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`${name} failed: ${err.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}
