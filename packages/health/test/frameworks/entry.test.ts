// The frameworks are optional peer dependencies: the main entry must work without them installed,
// so it must never load them.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const root = path.resolve(__dirname, '../../../..');

test('importing @periscope/health loads neither express, fastify, Nest nor rxjs', () => {
  const script = [
    "require('./packages/health/src/index.ts');",
    'const loaded = Object.keys(require.cache).filter((k) => /node_modules[\\\\/](express|fastify|@nestjs|rxjs|reflect-metadata)[\\\\/]/.test(k));',
    'process.stdout.write(JSON.stringify(loaded));',
  ].join('\n');
  const out = execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { cwd: root, encoding: 'utf8' });
  expect(JSON.parse(out)).toEqual([]);
});

test('the subpath exports point at the framework modules, and the main entry is unchanged', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const pkg = require('../../package.json') as { exports: Record<string, unknown>; peerDependenciesMeta: unknown };
  expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
  expect(pkg.exports['./express']).toEqual({
    types: './dist/frameworks/express.d.ts',
    default: './dist/frameworks/express.js',
  });
  expect(pkg.exports['./fastify']).toEqual({
    types: './dist/frameworks/fastify.d.ts',
    default: './dist/frameworks/fastify.js',
  });
  expect(pkg.exports['./nestjs']).toEqual({
    types: './dist/frameworks/nestjs.d.ts',
    default: './dist/frameworks/nestjs.js',
  });
  expect(pkg.peerDependenciesMeta).toEqual({
    '@nestjs/common': { optional: true },
    '@nestjs/core': { optional: true },
    '@nestjs/platform-express': { optional: true },
    '@periscope/tracing': { optional: true },
    express: { optional: true },
    fastify: { optional: true },
    'reflect-metadata': { optional: true },
  });
});
