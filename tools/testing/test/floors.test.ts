// The dependency floors of DESIGN.md are enforced by Nx's own lint rule, and formatting by Prettier
// in every project's lint: a wrong import or unformatted code fails `npx nx lint` / `npm test`.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');

/** ESLint and Prettier load their configs with import(), which Jest's VM refuses: run them in a child. */
function inChild(script: string, input: unknown): unknown {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: root,
    env: { ...process.env, PROBE_INPUT: JSON.stringify(input) },
  });
  return JSON.parse(out.toString());
}

async function lint(code: string, file: string): Promise<string[]> {
  const script = `
    import { ESLint } from 'eslint';
    const { code, file } = JSON.parse(process.env.PROBE_INPUT);
    const [result] = await new ESLint({ cwd: process.cwd() }).lintText(code, { filePath: file });
    console.log(JSON.stringify(result.messages.map((m) => m.ruleId + ': ' + m.message)));`;
  return inChild(script, { code, file: path.join(root, file) }) as string[];
}

interface PrettierProbe {
  options: Record<string, unknown> | null;
  ignored: boolean;
  unformatted: boolean;
  formatted: boolean;
}

function prettierProbe(file: string): PrettierProbe {
  const script = `
    import * as prettier from 'prettier';
    const { file, ignorePath } = JSON.parse(process.env.PROBE_INPUT);
    const options = await prettier.resolveConfig(file);
    const { ignored } = await prettier.getFileInfo(file, { ignorePath });
    const unformatted = await prettier.check('export const x = {a:1}\\n', { ...options, filepath: file });
    const formatted = await prettier.check('export const x = { a: 1 };\\n', { ...options, filepath: file });
    console.log(JSON.stringify({ options, ignored, unformatted, formatted }));`;
  return inChild(script, {
    file: path.join(root, file),
    ignorePath: path.join(root, '.prettierignore'),
  }) as PrettierProbe;
}

beforeAll(() => {
  // The rule reads Nx's project graph; make sure one is cached (npm test builds first, which does it).
  execFileSync(path.join(root, 'node_modules/.bin/nx'), ['show', 'projects'], {
    cwd: root,
    env: { ...process.env, NX_DAEMON: 'false' },
    stdio: 'ignore',
  });
}, 120_000);

describe('floors (Nx enforce-module-boundaries)', () => {
  test('core (floor 0) may not import metrics (floor 1)', async () => {
    const messages = await lint(
      "import { createMetrics } from '@periscope/metrics';\nexport const m = createMetrics;\n",
      'packages/core/src/probe.ts',
    );
    // Nx reports the cycle this would create (metrics depends on core) or the floor rule itself.
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(
      /^@nx\/enforce-module-boundaries: (A project tagged with "floor:0"|Circular dependency)/,
    );
  });

  test('a floor-1 package may not import another floor-1 package', async () => {
    const messages = await lint(
      "import { createLogger } from '@periscope/logging';\nexport const l = createLogger;\n",
      'packages/tracing/src/probe.ts',
    );
    expect(messages.join('\n')).toMatch(/floor:1" can only depend on libs tagged with "floor:0"/);
  });

  test('a floor-2 package may import core and floor 1; an app may import any package', async () => {
    expect(
      await lint(
        "import { createMetrics } from '@periscope/metrics';\nimport { redact } from '@periscope/core';\nexport const x = [createMetrics, redact];\n",
        'packages/cache/src/probe.ts',
      ),
    ).toEqual([]);
    expect(
      await lint(
        "import { createCache } from '@periscope/cache';\nexport const c = createCache;\n",
        'apps/demo-agent/src/probe.ts',
      ),
    ).toEqual([]);
  });

  test('shipped code may not use the test tools', async () => {
    const messages = await lint(
      "import { TcpFaultProxy } from '@periscope-tools/testing';\nexport const p = TcpFaultProxy;\n",
      'packages/cache/src/probe.ts',
    );
    expect(messages.join('\n')).toMatch(/@nx\/enforce-module-boundaries/);
  });
});

describe('formatting (Prettier, checked in every lint)', () => {
  test('the repository config applies to package sources and refuses unformatted code', () => {
    const probe = prettierProbe('packages/core/src/probe.ts');
    expect(probe.options).toMatchObject({ singleQuote: true, printWidth: 120 });
    expect(probe.ignored).toBe(false);
    expect(probe.unformatted).toBe(false);
    expect(probe.formatted).toBe(true);
  });

  test('every package and app runs the Prettier check in its lint target', () => {
    for (const group of ['packages', 'apps']) {
      for (const dir of readdirSync(path.join(root, group))) {
        const pkg = JSON.parse(readFileSync(path.join(root, group, dir, 'package.json'), 'utf8'));
        expect({ dir, lint: pkg.scripts?.lint }).toEqual({
          dir,
          lint: expect.stringMatching(/^eslint \. && prettier --check /),
        });
      }
    }
  });
});
