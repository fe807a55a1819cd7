// Every ops asset from the catalogue, as relative path → content, and a writer that replaces them
// under a root (the repository, or a temporary directory in tests).
import fs from 'node:fs';
import path from 'node:path';
import { defaultOpsCatalogue, type OpsCatalogue } from '@periscope/alerting';
import { ALERTMANAGER_CONFIG, alertmanagerConfig } from './alertmanager';
import { DASHBOARDS, dashboardJson } from './dashboards';
import {
  COMPOSE_FILE,
  composeFile,
  grafanaProvisioning,
  K8S_APP,
  K8S_RULES,
  kubernetesApp,
  kubernetesRules,
} from './deployments';
import { PROMETHEUS_CONFIG, prometheusConfig, RULES_FILE, rulesFile } from './prometheus';
import { runbookFiles } from './runbooks';

/** Where the runbooks are published; each alert's runbook_url is `<base>/<alertname>.md`. */
export const RUNBOOK_BASE_URL = 'https://github.com/periscope-dev/periscope/blob/main/docs/runbooks';

export function catalogue(): OpsCatalogue {
  return defaultOpsCatalogue({ runbookBaseUrl: RUNBOOK_BASE_URL });
}

/** Relative path (from the repository root) → content of every generated file. */
export function generateAssets(cat: OpsCatalogue = catalogue()): Map<string, string> {
  const files = new Map<string, string>([
    [RULES_FILE, rulesFile(cat)],
    [PROMETHEUS_CONFIG, prometheusConfig()],
    [ALERTMANAGER_CONFIG, alertmanagerConfig()],
    [K8S_APP, kubernetesApp()],
    [K8S_RULES, kubernetesRules(cat)],
    [COMPOSE_FILE, composeFile()],
    ...grafanaProvisioning(),
    ...DASHBOARDS.map((d): [string, string] => [d.file, dashboardJson(d, cat)]),
    ...runbookFiles(cat),
  ]);
  return files;
}

/** Generated directories: files in them that the generator no longer writes are removed. */
export const OWNED_DIRS = [
  'deploy/prometheus/rules',
  'deploy/grafana',
  'deploy/kubernetes',
  'deploy/compose',
  'docs/runbooks',
];

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? listFiles(p) : [p];
  });
}

/** Writes every asset under `root`, removing stale files of the generated directories; returns the paths written. */
export function writeAssets(root: string, files: Map<string, string> = generateAssets()): string[] {
  for (const dir of OWNED_DIRS)
    for (const file of listFiles(path.join(root, dir))) {
      const rel = path.relative(root, file).split(path.sep).join('/');
      if (!files.has(rel) && !rel.startsWith('deploy/compose/secrets/')) fs.rmSync(file);
    }
  for (const [rel, content] of files) {
    const target = path.join(root, rel);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content);
  }
  return [...files.keys()];
}

/** Files under `root` that differ from what the generator writes (missing, changed or stale). */
export function staleAssets(root: string, files: Map<string, string> = generateAssets()): string[] {
  const out: string[] = [];
  for (const [rel, content] of files) {
    const target = path.join(root, rel);
    if (!fs.existsSync(target) || fs.readFileSync(target, 'utf8') !== content) out.push(rel);
  }
  for (const dir of OWNED_DIRS)
    for (const file of listFiles(path.join(root, dir))) {
      const rel = path.relative(root, file).split(path.sep).join('/');
      if (!files.has(rel) && !rel.startsWith('deploy/compose/secrets/')) out.push(rel);
    }
  return out.sort();
}
