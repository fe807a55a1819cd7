// The systeminformation fallback. `si.graphics()` runs execSync internally (blocking for as long as
// the tools it calls take), so it runs in a worker thread: the event loop of the caller never waits,
// and a hung call is ended by terminating the worker at the timeout.
import { Worker } from 'node:worker_threads';
import type { GpuDevice } from './types';

// Plain JS so that it runs the same from src (ts-jest) and dist.
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
require(workerData).graphics().then(
  (g) => parentPort.postMessage({ controllers: g.controllers.map((c) => ({ vendor: c.vendor, model: c.model, vram: c.vram, busAddress: c.busAddress, pciBus: c.pciBus, memoryTotal: c.memoryTotal, memoryUsed: c.memoryUsed, memoryFree: c.memoryFree, utilizationGpu: c.utilizationGpu, temperatureGpu: c.temperatureGpu, powerDraw: c.powerDraw, powerLimit: c.powerLimit, subDeviceId: c.subDeviceId, uuid: c.uuid })) }),
  (e) => parentPort.postMessage({ error: String(e && e.message || e) }),
);`;

interface Controller {
  vendor?: string;
  model?: string;
  vram?: number | null;
  busAddress?: string;
  pciBus?: string;
  memoryTotal?: number;
  memoryUsed?: number;
  memoryFree?: number;
  utilizationGpu?: number;
  temperatureGpu?: number;
  powerDraw?: number;
  powerLimit?: number;
  uuid?: string;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** NVIDIA controllers with memory become devices; others (a VM's VGA adapter) are not allocatable. */
export function devicesFromControllers(controllers: readonly Controller[]): GpuDevice[] {
  const out: GpuDevice[] = [];
  for (const c of controllers) {
    const mem = num(c.memoryTotal) ?? num(c.vram);
    if (!/nvidia/i.test(c.vendor ?? '') || mem === undefined || mem <= 0) continue;
    const index = out.length;
    out.push({
      uuid: c.uuid && /^GPU-/.test(c.uuid) ? c.uuid : `GPU-si-${c.busAddress ?? c.pciBus ?? index}`,
      index,
      name: c.model ?? 'NVIDIA GPU',
      source: 'systeminformation',
      memoryTotalMb: mem,
      memoryUsedMb: num(c.memoryUsed),
      memoryFreeMb: num(c.memoryFree),
      utilizationGpu: num(c.utilizationGpu),
      temperatureC: num(c.temperatureGpu),
      powerDrawW: num(c.powerDraw),
      powerLimitW: num(c.powerLimit),
      pciBusId: c.busAddress ?? c.pciBus,
    });
  }
  return out;
}

/** Controllers from `si.graphics()` in a worker, or an error after `timeoutMs`. */
export function graphicsOffThread(timeoutMs: number): Promise<GpuDevice[]> {
  return new Promise((resolve, reject) => {
    let modulePath: string;
    try {
      modulePath = require.resolve('systeminformation');
    } catch (err) {
      reject(new Error('systeminformation is not installed', { cause: err }));
      return;
    }
    const worker = new Worker(WORKER, { eval: true, stdout: true, stderr: true, workerData: modulePath });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`systeminformation.graphics() did not answer within ${timeoutMs} ms`));
    }, timeoutMs);
    worker.once('message', (msg: { controllers?: Controller[]; error?: string }) => {
      clearTimeout(timer);
      void worker.terminate();
      if (msg.error !== undefined) reject(new Error(msg.error));
      else resolve(devicesFromControllers(msg.controllers ?? []));
    });
    worker.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
