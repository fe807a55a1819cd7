import fc from 'fast-check';
import { codeBlocks, exampleFileName, firstExample, importedPackages } from '../lib/readme-example';

const fence = '```';

describe('the README example contract', () => {
  it('takes the first ts block as the example, verbatim, with its line number', () => {
    const md = [
      '# pkg',
      '',
      'Install it.',
      '',
      `${fence}bash`,
      'npm i @periscope/x',
      fence,
      '',
      `${fence}ts`,
      "import { a } from '@periscope/x';",
      'console.log(a);',
      fence,
      '',
      `${fence}ts`,
      'second();',
      fence,
    ].join('\n');
    expect(firstExample(md)).toEqual({
      lang: 'ts',
      code: "import { a } from '@periscope/x';\nconsole.log(a);",
      line: 9,
      server: false,
    });
  });

  it('skips blocks that start with // excerpt and takes the next complete program', () => {
    const md = [
      `${fence}ts`,
      '// excerpt: the options only',
      'createPool({ poolSize: 10 });',
      fence,
      `${fence}js`,
      "const x = require('@periscope/x');",
      fence,
    ].join('\n');
    const example = firstExample(md);
    expect(example?.lang).toBe('js');
    expect(example?.code).toBe("const x = require('@periscope/x');");
    expect(exampleFileName(example!)).toBe('example.cjs');
  });

  it('marks a program that serves until stopped by its // e2e: server comment', () => {
    const md = [
      `${fence}ts`,
      "import http from 'node:http';",
      '// e2e: server (listens until SIGTERM)',
      'http.createServer().listen(0);',
      fence,
    ].join('\n');
    expect(firstExample(md)?.server).toBe(true);
  });

  it('returns null when the README has no ts or js block', () => {
    expect(firstExample(`# x\n\n${fence}bash\nnpm i x\n${fence}\n`)).toBeNull();
  });

  it('does not end a four-backtick block at a three-backtick fence inside it', () => {
    const md = ['````md', `${fence}ts`, 'inner();', fence, '````', `${fence}ts`, 'outer();', fence].join('\n');
    expect(codeBlocks(md).map((b) => b.lang)).toEqual(['md', 'ts']);
    expect(firstExample(md)?.code).toBe('outer();');
  });

  it('lists the packages a program imports, builtins and relative paths left out', () => {
    const code = [
      "import os from 'node:os';",
      "import path from 'path';",
      "import { createCache } from '@periscope/cache';",
      "import type { Logger } from '@periscope/core';",
      "import { trace } from '@opentelemetry/api';",
      "import Redis from 'ioredis';",
      "import './local';",
      "const pg = require('pg/lib/client');",
      "const lazy = await import('@periscope/metrics');",
    ].join('\n');
    expect(importedPackages(code)).toEqual([
      '@opentelemetry/api',
      '@periscope/cache',
      '@periscope/core',
      '@periscope/metrics',
      'ioredis',
      'pg',
    ]);
  });

  it('finds any generated program again as the first example, whatever prose and other blocks precede it', () => {
    const line = fc.stringMatching(/^[a-zA-Z0-9 ;(){}'.=]{0,40}$/);
    const program = fc
      .array(line, { minLength: 1, maxLength: 8 })
      .filter((ls) => !/^\s*\/\/\s*excerpt/i.test(ls.find((l) => l.trim() !== '') ?? ''));
    const otherBlock = fc
      .constantFrom('bash', 'json', 'yaml', 'sh', '')
      .chain((lang) => fc.array(line, { maxLength: 3 }).map((ls) => [`${fence}${lang}`, ...ls, fence]));
    const excerpt = fc.array(line, { maxLength: 3 }).map((ls) => [`${fence}ts`, '// excerpt', ...ls, fence]);
    const before = fc.array(
      fc.oneof(
        line.map((l) => [l.startsWith('`') ? `x${l}` : l]),
        otherBlock,
        excerpt,
      ),
      { maxLength: 6 },
    );
    fc.assert(
      fc.property(before, program, fc.constantFrom('ts', 'typescript', 'js'), (pre, body, lang) => {
        const lines = [...pre.flat(), `${fence}${lang}`, ...body, fence, `${fence}ts`, 'not this one', fence];
        const example = firstExample(lines.join('\n'));
        expect(example?.code).toBe(body.join('\n'));
        expect(example?.line).toBe(pre.flat().length + 1);
      }),
    );
  });
});
