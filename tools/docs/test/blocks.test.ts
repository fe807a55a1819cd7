import { codeBlocks } from '../src/blocks';

const md = [
  '# Guide', // 1
  '```ts', // 2
  'console.log(1);', // 3
  '```', // 4
  '<!-- excerpt: shell -->', // 5
  '', // 6
  '```sh', // 7
  'npm test', // 8
  '```', // 9
  '```yaml', // 10
  'a: 1', // 11
  '```', // 12
  '```ts', // 13
  '// excerpt: a fragment', // 14
  'app.use(x);', // 15
  '```', // 16
  '<!-- run: demo -->', // 17
  '````ts', // 18
  'const s = "```";', // 19
  '````', // 20
  'text', // 21
  '```', // 22
  'diagram', // 23
  '```', // 24
].join('\n');

test('programs, marked excerpts and unmarked blocks, with their lines and needs', () => {
  expect(codeBlocks(md).map(({ line, lang, kind, needs }) => ({ line, lang, kind, needs }))).toEqual([
    { line: 2, lang: 'ts', kind: 'program', needs: [] },
    { line: 7, lang: 'sh', kind: 'excerpt', needs: [] },
    { line: 10, lang: 'yaml', kind: 'unmarked', needs: [] },
    { line: 13, lang: 'ts', kind: 'excerpt', needs: [] },
    { line: 18, lang: 'ts', kind: 'program', needs: ['demo'] },
    { line: 22, lang: '', kind: 'unmarked', needs: [] },
  ]);
  expect(codeBlocks(md)[4].code).toBe('const s = "```";\n');
});

test('a marker separated from its fence by text does not count', () => {
  expect(codeBlocks('<!-- excerpt -->\nsome prose\n```sh\nls\n```\n')[0].kind).toBe('unmarked');
});
