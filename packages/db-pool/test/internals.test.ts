// The private parts of generic-pool and pg the pool relies on are checked at start, and the main
// entry never loads the embedded PostgreSQL.
import fs from 'node:fs';
import path from 'node:path';
import { checkVersions, SUPPORTED } from '../src/internals';
import { UnsupportedDependencyError } from '../src';

test('the installed generic-pool and pg are versions whose internals the pool was written against', () => {
  expect(() => checkVersions()).not.toThrow();
  expect(SUPPORTED['generic-pool']).toEqual(['3.9']);
});

test('an unknown generic-pool or pg version fails loudly at start, naming the package and version', () => {
  expect(() => checkVersions({ 'generic-pool': '3.10.0', pg: '8.23.1' })).toThrow(UnsupportedDependencyError);
  expect(() => checkVersions({ 'generic-pool': '3.10.0', pg: '8.23.1' })).toThrow(/generic-pool 3\.10\.0 is installed/);
  expect(() => checkVersions({ 'generic-pool': '3.9.0', pg: '9.0.0' })).toThrow(/pg 9\.0\.0 is installed/);
  expect(() => checkVersions({ 'generic-pool': '3.90.1', pg: '8.1.0' })).toThrow(UnsupportedDependencyError);
  expect(() => checkVersions({ 'generic-pool': '3.9.2', pg: '8.0.0' })).not.toThrow();
});

test('the main entry does not import PGlite (only @periscope/db-pool/embedded does)', () => {
  const src = path.join(__dirname, '..', 'src');
  const seen = new Set<string>();
  const external = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import\()\s*'([^']+)'/g)) {
      if (m[1].startsWith('.')) visit(path.join(path.dirname(file), `${m[1]}.ts`));
      else external.add(m[1]);
    }
  };
  visit(path.join(src, 'index.ts'));
  expect(seen.has(path.join(src, 'embedded.ts'))).toBe(false);
  expect([...external].filter((name) => name.includes('pglite'))).toEqual([]);
  expect(external.has('pg')).toBe(true); // the walk does follow the imports
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));
  expect(pkg.exports['./embedded']).toEqual({ types: './dist/embedded.d.ts', default: './dist/embedded.js' });
  expect(Object.keys(pkg.dependencies)).not.toContain('@electric-sql/pglite');
  expect(pkg.peerDependenciesMeta['@electric-sql/pglite']).toEqual({ optional: true });
  expect(Object.keys(pkg.dependencies)).toContain('@types/pg'); // the shipped .d.ts import pg's types
});
