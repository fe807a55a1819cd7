// `npx nx run tools-ops-assets:generate` (or `npm run generate -w tools/ops-assets -- --out <dir>`):
// writes every ops asset under the repository root, or under --out.
import path from 'node:path';
import { writeAssets } from './generate';

function main(argv: string[]): number {
  let root = path.resolve(__dirname, '..', '..', '..');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out' && argv[i + 1] !== undefined) root = path.resolve(argv[++i]);
    else if (argv[i].startsWith('--out=')) root = path.resolve(argv[i].slice('--out='.length));
    else {
      process.stderr.write(`unknown argument ${JSON.stringify(argv[i])}\nUsage: generate [--out <dir>]\n`);
      return 2;
    }
  }
  const written = writeAssets(root);
  process.stdout.write(`wrote ${written.length} files under ${root}\n`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
