// Seeded randomness for the simulated provider and the task generator: reproducible runs.

export interface Rng {
  (): number;
  /** A log-normal draw with the given log-mean and log-sd. */
  logNormal(mu: number, sigma: number): number;
  int(maxExclusive: number): number;
  pick<T>(items: readonly T[]): T;
}

/** mulberry32: small, fast, and good enough for simulation. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  const next = (() => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }) as Rng;
  next.logNormal = (mu, sigma) => {
    // Box–Muller; 1 - u keeps log() away from 0.
    const u = 1 - next();
    const v = next();
    return Math.exp(mu + sigma * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v));
  };
  next.int = (max) => Math.floor(next() * max);
  next.pick = (items) => items[Math.floor(next() * items.length)];
  return next;
}

/** FNV-1a, for deriving seeds from text (not for security). */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
