// The README's first example runs as written (here on simulated devices: no nvidia-smi on PATH).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers';

it('the first README example runs as written', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)![1];
  const file = path.join(tempDir(), 'example.ts');
  fs.writeFileSync(file, code);
  const r = spawnSync(process.execPath, ['--import', 'tsx', file], {
    encoding: 'utf8',
    timeout: 60_000,
    env: {
      ...process.env,
      PATH: '/nonexistent',
      PERISCOPE_GPU_SYSTEMINFORMATION: 'false',
      TSX_TSCONFIG_PATH: path.join(__dirname, '..', 'tsconfig.json'),
    },
  });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.stdout).toContain('devices (simulated): Simulated GPU 80GB 81920 MiB, Simulated GPU 80GB 81920 MiB');
  expect(r.stdout).toMatch(/CUDA_VISIBLE_DEVICES = GPU-/);
  expect(r.stdout).toMatch(/training on GPU-\S+,GPU-/);
  expect(r.stdout).toContain('periscope_gpu_pool_wait_seconds_count{pool="default"} 2');
});
