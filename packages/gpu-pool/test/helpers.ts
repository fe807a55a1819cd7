// Test helpers: the nvidia-smi double on PATH, without touching process.env.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const FAKE_BIN = path.join(__dirname, 'fixtures', 'bin');

/** An environment whose PATH finds the nvidia-smi double first, plus its FAKE_NVSMI_* settings. */
export function fakeEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  return { ...process.env, PATH: `${FAKE_BIN}${path.delimiter}${process.env.PATH ?? ''}`, ...extra };
}

/** An environment in which nvidia-smi is not found. */
export function noGpuEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  return { PATH: '/nonexistent', ...extra };
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'gpu-pool-test-'));
}

export function callsLogged(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}
