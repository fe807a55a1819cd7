// Source-mapped frames: where Node has a source map for a script (run with --enable-source-maps,
// or process.setSourceMapsEnabled(true) before the code loads), a frame's file and line become the
// original source's, and its name the original name when the map records one. Without source
// maps this costs one cached lookup per file.
import { findSourceMap, type SourceMap } from 'node:module';
import type { Frame } from './tree';

export class SourceMapper {
  private readonly maps = new Map<string, SourceMap | undefined>();

  map(frame: Frame): Frame {
    if (frame.file === '' || frame.file.startsWith('node:') || frame.line === 0) return frame;
    let sm = this.maps.get(frame.file);
    if (!this.maps.has(frame.file)) {
      try {
        sm = findSourceMap(frame.file);
      } catch {
        sm = undefined; // not a path or URL Node knows: no map, the frame stays as V8 named it
      }
      this.maps.set(frame.file, sm);
    }
    if (sm === undefined) return frame;
    const entry = sm.findEntry(frame.line - 1, Math.max(0, frame.column - 1)) as Partial<{
      originalSource: string;
      originalLine: number;
      originalColumn: number;
      name: string;
    }>;
    if (typeof entry.originalSource !== 'string' || typeof entry.originalLine !== 'number') return frame;
    return {
      name:
        typeof entry.name === 'string' && entry.name !== '' && frame.name === '(anonymous)' ? entry.name : frame.name,
      file: entry.originalSource,
      line: entry.originalLine + 1,
      column: (entry.originalColumn ?? 0) + 1,
    };
  }
}
