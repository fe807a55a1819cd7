// The code blocks of a Markdown guide, and what each one is. A TypeScript block (```ts) is a
// complete program: CI type-checks and runs it. Any other block, and a TypeScript block that is
// only part of a program, must say so with a marker above its fence (blank lines between allowed):
//   <!-- excerpt -->  or  <!-- excerpt: why -->   shown, never run (shell commands, config, output,
//                                                  a diagram, a fragment of a program)
//   <!-- run: demo -->                              a program run against a demo agent that the test
//                                                  starts first; its base URL is in DEMO_URL
// or, for a TypeScript block, with `// excerpt` as its first line.
// A block that is neither a program nor marked fails the test with its file and line.

export type BlockKind = 'program' | 'excerpt' | 'unmarked';

export interface CodeBlock {
  /** 1-based line of the opening fence. */
  line: number;
  /** The fence's info string (`ts`, `sh`, `` for none). */
  lang: string;
  code: string;
  kind: BlockKind;
  /** What a program needs started before it runs (`demo`), from `<!-- run: … -->`. */
  needs: string[];
}

const PROGRAM_LANGS = new Set(['ts', 'typescript']);
const FENCE = /^(`{3,}|~{3,})\s*([\w-]*)[^`]*$/;
const MARKER = /^<!--\s*(excerpt|run)\s*(?::\s*([^]*?))?\s*-->\s*$/;

export function codeBlocks(markdown: string): CodeBlock[] {
  const lines = markdown.split('\n');
  const blocks: CodeBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = FENCE.exec(lines[i]);
    if (!open) continue;
    const fence = open[1];
    const lang = open[2].toLowerCase();
    const closes = (l: string) => {
      const t = l.trim();
      return t.length >= fence.length && t === fence[0].repeat(t.length);
    };
    let end = i + 1;
    while (end < lines.length && !closes(lines[end])) end++;
    let above = i - 1;
    while (above >= 0 && lines[above].trim() === '') above--;
    const marker = above >= 0 ? MARKER.exec(lines[above].trim()) : null;
    const isProgram = PROGRAM_LANGS.has(lang);
    let kind: BlockKind;
    if (marker?.[1] === 'excerpt' || (isProgram && /^\/\/\s*excerpt\b/i.test(lines[i + 1] ?? ''))) kind = 'excerpt';
    else if (isProgram) kind = 'program';
    else kind = 'unmarked';
    const needs = marker?.[1] === 'run' && marker[2] ? marker[2].split(/[\s,]+/).filter(Boolean) : [];
    blocks.push({ line: i + 1, lang, code: lines.slice(i + 1, end).join('\n') + '\n', kind, needs });
    i = end;
  }
  return blocks;
}
