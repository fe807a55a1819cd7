// The README-example contract (tools/release/README.md): a package README's first ```ts or
// ```js code block that does not start with `// excerpt` is a complete program, run as written
// in an empty project that installed the package. `// e2e: server` in it says the program serves
// until stopped (it passes when it is still running after a few seconds and stops on SIGTERM).
'use strict';
const { builtinModules } = require('node:module');

const LANGS = new Map([
  ['ts', 'ts'],
  ['typescript', 'ts'],
  ['mts', 'ts'],
  ['js', 'js'],
  ['javascript', 'js'],
  ['mjs', 'js'],
  ['cjs', 'js'],
]);
const EXCERPT = /^\s*\/\/\s*excerpt\b/i;
const SERVER_MARK = /^\s*\/\/\s*e2e:\s*server\b/im;

/** Every fenced code block at the top level of a Markdown text: { lang, code, line }. */
function codeBlocks(markdown) {
  const blocks = [];
  const lines = markdown.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const open = /^(`{3,}|~{3,})\s*([\w+-]*)/.exec(lines[i]);
    if (!open) continue;
    const fence = open[1];
    const body = [];
    let j = i + 1;
    const closes = (line) => {
      const m = /^(`{3,}|~{3,})\s*$/.exec(line);
      return m !== null && m[1][0] === fence[0] && m[1].length >= fence.length;
    };
    while (j < lines.length && !closes(lines[j])) {
      body.push(lines[j]);
      j++;
    }
    blocks.push({ lang: open[2].toLowerCase(), code: body.join('\n'), line: i + 1 });
    i = j;
  }
  return blocks;
}

/**
 * The README's example: the first ts/js block that is not an excerpt, as
 * { lang: 'ts' | 'js', code, line, server } — or null when there is none.
 */
function firstExample(markdown) {
  for (const block of codeBlocks(markdown)) {
    const lang = LANGS.get(block.lang);
    if (!lang) continue;
    const firstCodeLine = block.code.split('\n').find((l) => l.trim() !== '') ?? '';
    if (EXCERPT.test(firstCodeLine)) continue;
    return { lang, code: block.code, line: block.line, server: SERVER_MARK.test(block.code) };
  }
  return null;
}

const builtins = new Set(builtinModules);

/** The npm package names a program imports (static, dynamic, require), builtins left out. */
function importedPackages(code) {
  const names = new Set();
  const patterns = [
    /\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const re of patterns) {
    for (const m of code.matchAll(re)) {
      const spec = m[1];
      if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:')) continue;
      const parts = spec.split('/');
      const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
      if (builtins.has(name)) continue;
      names.add(name);
    }
  }
  return [...names].sort();
}

/** How the example is written to disk: ESM unless it is CommonJS-only JavaScript. */
function exampleFileName(example) {
  if (example.lang === 'ts') return 'example.ts';
  const esm = /^\s*(import|export)\s/m.test(example.code) || /\bawait\b/.test(example.code);
  return !esm && /\brequire\s*\(/.test(example.code) ? 'example.cjs' : 'example.mjs';
}

module.exports = { SERVER_MARK, codeBlocks, firstExample, importedPackages, exampleFileName };
