// The embedding tool: simulated text embeddings by feature hashing (each word adds ±1 to a
// hashed dimension), normalised — deterministic, and similar texts get similar vectors.
import { hashString } from '../random';

export const EMBEDDING_DIMENSIONS = 64;

export function embed(text: string, dimensions = EMBEDDING_DIMENSIONS): Float32Array {
  const v = new Float32Array(dimensions);
  for (const word of text.toLowerCase().split(/[^a-z0-9]+/)) {
    if (!word) continue;
    const h = hashString(word);
    v[h % dimensions] += h & 0x80000000 ? -1 : 1;
  }
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm) || 1;
  for (let i = 0; i < dimensions; i++) v[i] /= norm;
  return v;
}
