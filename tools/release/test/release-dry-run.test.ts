import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '../../..');
const packageDirs = readdirSync(path.join(root, 'packages')).filter((d) => {
  try {
    readFileSync(path.join(root, 'packages', d, 'package.json'));
    return true;
  } catch {
    return false;
  }
});
const manifests = () => packageDirs.map((d) => readFileSync(path.join(root, 'packages', d, 'package.json'), 'utf8'));

// `nx release` as configured in nx.json (fixed versioning, a CHANGELOG.md per package), in dry
// run: it must work offline in a fresh clone (no git remote, no tags, no registry) and write nothing.
describe('nx release --dry-run', () => {
  it('versions every package together and previews a changelog per package, writing nothing', () => {
    const before = manifests();
    const r = spawnSync(
      process.execPath,
      [path.join(root, 'node_modules/nx/bin/nx.js'), 'release', '0.99.0', '--dry-run', '--skip-publish'],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 240_000,
        env: { ...process.env, NX_DAEMON: 'false', NX_NO_CLOUD: 'true', FORCE_COLOR: '0', CI: 'true' },
      },
    );
    const out = `${r.stdout}${r.stderr}`;
    if (r.status !== 0) throw new Error(`nx release exited ${r.status ?? r.signal}:\n${out.slice(-3000)}`);
    for (const dir of packageDirs) {
      expect(out).toContain(`New version 0.99.0 written to manifest: packages/${dir}/package.json`);
      expect(out).toContain(`packages/${dir}/CHANGELOG.md`);
    }
    expect(out).toContain('"dryRun" flag means no changes were made');
    expect(manifests()).toEqual(before);
  });
});
