#!/usr/bin/env node
// House rule (DEVELOPERS.md, issue 10): no source file over 500 lines and no function over 80
// lines in packages/ and apps/, unless a comment says why it must be one piece:
//   `// size: <why>` among the first 5 lines of a file exempts the file;
//   `// size: <why>` on the line just above a function exempts that function.
// Tests, benches and generated output are not checked. Exit 1 with one line per breach.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const MAX_FILE = 500;
const MAX_FUNCTION = 80;
const EXEMPT = /^\s*\/\/\s*size:\s*\S/;

function sources(dir, out = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name !== 'test' && name !== 'bench' && name !== '__tests__') sources(p, out);
    } else if (/\.(ts|mts|cts)$/.test(name) && !/\.(test|spec|d)\.ts$/.test(name)) out.push(p);
  }
  return out;
}

const problems = [];
for (const group of ['packages', 'apps']) {
  const base = path.join(root, group);
  for (const project of readdirSync(base)) {
    const src = path.join(base, project, 'src');
    let files = [];
    try {
      files = sources(src);
    } catch {
      continue;
    }
    for (const file of files) checkFile(file);
  }
}

function checkFile(file) {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  const rel = path.relative(root, file);
  if (lines.slice(0, 5).some((l) => EXEMPT.test(l))) return;
  if (lines.length > MAX_FILE) problems.push(`${rel}: ${lines.length} lines (at most ${MAX_FILE})`);
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const visit = (node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const end = sf.getLineAndCharacterOfPosition(node.end).line;
      const length = end - start + 1;
      if (length > MAX_FUNCTION && !EXEMPT.test(lines[start - 1] ?? '')) {
        problems.push(`${rel}:${start + 1}: ${describe(node)} is ${length} lines (at most ${MAX_FUNCTION})`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
}

function describe(node) {
  const name = node.name && ts.isIdentifier(node.name) ? node.name.text : undefined;
  if (name) return `function ${name}`;
  const parent = node.parent;
  if (parent && ts.isVariableDeclaration(parent) && ts.isIdentifier(parent.name)) return `function ${parent.name.text}`;
  if (parent && ts.isPropertyAssignment(parent) && ts.isIdentifier(parent.name)) return `function ${parent.name.text}`;
  return 'an anonymous function';
}

if (problems.length) {
  console.error(`size: ${problems.length} breach(es) of the file/function size rule:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log('size: ok (no file over 500 lines, no function over 80 lines)');
