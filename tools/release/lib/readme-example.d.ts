// Types for readme-example.js (plain CommonJS so the release scripts run without a build).
export interface CodeBlock {
  lang: string;
  code: string;
  line: number;
}
export interface Example {
  lang: 'ts' | 'js';
  code: string;
  line: number;
  server: boolean;
}
export declare const SERVER_MARK: RegExp;
export declare function codeBlocks(markdown: string): CodeBlock[];
export declare function firstExample(markdown: string): Example | null;
export declare function importedPackages(code: string): string[];
export declare function exampleFileName(example: Example): 'example.ts' | 'example.mjs' | 'example.cjs';
