// Known CPU-bound workloads whose hot function must come out on top.
export function hotSpin(ms: number): number {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) {
    for (let i = 0; i < 10_000; i++) x = (x * 1103515245 + 12345 + Math.sqrt(i)) % 2147483647;
  }
  return x;
}

export function coldSpin(ms: number): number {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) x += Math.cos(x);
  return x;
}

/** Runs hotSpin ~6× as long as coldSpin, in slices, under one caller. */
export function mixedWork(totalMs: number): number {
  let acc = 0;
  const slices = 10;
  for (let s = 0; s < slices; s++) {
    acc += hotSpin((totalMs * 6) / 7 / slices);
    acc += coldSpin(totalMs / 7 / slices);
  }
  return acc;
}
