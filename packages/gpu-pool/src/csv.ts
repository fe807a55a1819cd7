// nvidia-smi's CSV: `a, b, "c, d"` lines, values that say "unknown" in brackets. Never throws:
// whatever the tool prints (a sick driver prints anything) becomes strings or `undefined`.

/** Splits one CSV line on commas outside double quotes (`""` inside quotes is a quote); trims each field. */
export function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"' && field.trim() === '') {
      quoted = true;
      field = '';
    } else if (c === ',') {
      out.push(field.trim());
      field = '';
    } else field += c;
  }
  out.push(field.trim());
  return out;
}

/** Splits CSV text into rows of fields, skipping blank lines. */
export function parseCsv(text: string): string[][] {
  return text
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
    .map(splitCsvLine);
}

/**
 * `undefined` for every way nvidia-smi says "no value": `[N/A]`, `[Not Supported]`,
 * `[Requested functionality has been deprecated]`, `[Unknown Error]`, any other bracketed
 * marker, `N/A`, or an empty field. A real `0` stays `"0"`.
 */
export function knownValue(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const v = raw.trim();
  if (v === '' || v === 'N/A' || (v.startsWith('[') && v.endsWith(']'))) return undefined;
  return v;
}

const UNIT = /\s*(MiB|GiB|%|W|MHz|C)$/;

/** A finite number (units such as ` MiB`, ` %`, ` W` dropped; `0x…` read as hex), else `undefined`. */
export function numberValue(raw: string | undefined): number | undefined {
  const v = knownValue(raw);
  if (v === undefined) return undefined;
  if (/^0x[0-9a-f]+$/i.test(v)) {
    const n = Number(BigInt(v));
    return Number.isSafeInteger(n) ? n : undefined;
  }
  const t = v.replace(UNIT, '');
  if (!/^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$/.test(t)) return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}
