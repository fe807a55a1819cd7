// Source-mapped names: a script compiled with a source map, loaded by Node's own loader with
// --enable-source-maps (in a child process: Jest loads modules itself), shows up in profiles under
// its original file and line.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';

const SOURCE = `
// original TypeScript: the hot function starts on line 4
type Ms = number;
export function crunchNumbers(ms: Ms): number {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) x += Math.sqrt(x + 1);
  return x;
}
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'periscope-sourcemap-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

test('frames of a script with a source map name the original file and line', () => {
  const compiled = ts.transpileModule(SOURCE, {
    fileName: 'crunch.ts',
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, sourceMap: true },
  });
  const map = JSON.parse(compiled.sourceMapText!) as { sources: string[]; mappings: string };
  map.sources = [path.join(dir, 'crunch.ts')];
  // Blank lines first (and in the map: one ';' per generated line), so generated and original lines differ.
  map.mappings = `;;;;;${map.mappings}`;
  const js = `\n\n\n\n\n${compiled.outputText.replace(/\/\/# sourceMappingURL=.*/, '')}\n//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(map)).toString('base64')}\n`;
  const file = path.join(dir, 'crunch.js');
  writeFileSync(file, js, { mode: 0o600 });
  const child = path.join(dir, 'child.js');
  const src = path.join(__dirname, '..', 'src', 'index.ts');
  writeFileSync(
    child,
    `const { startCapture } = require(${JSON.stringify(src)});
     const { crunchNumbers } = require(${JSON.stringify(file)});
     const capture = startCapture();
     crunchNumbers(300);
     process.stdout.write(JSON.stringify(capture.stop().top({ limit: 1 })[0]));`,
    { mode: 0o600 },
  );
  const out = execFileSync(process.execPath, ['--enable-source-maps', '--require', 'tsx/cjs', child], {
    encoding: 'utf8',
    timeout: 60_000,
    cwd: path.join(__dirname, '..'),
  });
  const top = JSON.parse(out) as { name: string; file: string; line: number };
  expect(top.name).toBe('crunchNumbers');
  expect(top.file).toMatch(/crunch\.ts$/);
  expect(top.line).toBe(4);
});
