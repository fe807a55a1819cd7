// The README's first example is a complete program: it must type-check under --strict as written.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(__dirname, '../../..');

test('the first README example type-checks under --strict', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const code = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
  expect(code).toBeDefined();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'health-readme-'));
  try {
    const file = path.join(dir, 'example.ts');
    fs.writeFileSync(file, code!);
    const base = ts.getParsedCommandLineOfConfigFile(
      path.join(root, 'tsconfig.base.json'),
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: () => undefined,
      },
    );
    const options: ts.CompilerOptions = { ...base!.options, strict: true, noEmit: true, types: ['node'] };
    const program = ts.createProgram([file], options);
    const problems = ts
      .getPreEmitDiagnostics(program)
      .filter((d) => d.file?.fileName === file || d.file === undefined)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(problems).toEqual([]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);
