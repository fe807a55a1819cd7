// Types for proc.js (plain CommonJS so the release scripts run without a build).
import type { ChildProcess } from 'node:child_process';
export interface ExecResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}
export declare function cleanEnv(extra?: Record<string, string | undefined>): NodeJS.ProcessEnv;
export declare function exec(
  cmd: string,
  args: string[],
  options?: {
    cwd?: string;
    env?: NodeJS.ProcessEnv;
    timeoutMs?: number;
    onSpawn?: (child: ChildProcess) => void;
    input?: string;
  },
): Promise<ExecResult>;
export declare function stopGroup(child: ChildProcess, signal?: NodeJS.Signals): void;
export declare function lastLine(...texts: string[]): string;
