// The resource of this process: service, instance, host and process attributes, the same for every
// signal. @periscope/metrics' OTLP push computes the identical set (same rules, same instance id),
// so traces and metrics from one process join on service.instance.id without shared state.
import { createHash } from 'node:crypto';
import os from 'node:os';

const ARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm32',
  ia32: 'x86',
  ppc64: 'ppc64',
  s390x: 's390x',
};
const OS_TYPE: Record<string, string> = { win32: 'windows', sunos: 'solaris' };

/**
 * service.instance.id: a UUID derived from host name, pid and the process start time, so that every
 * package computing it in one process gets the same id and a restarted process gets a new one.
 */
export function serviceInstanceId(): string {
  const h = createHash('sha1').update(`${os.hostname()}\0${process.pid}\0${performance.timeOrigin}`).digest('hex');
  // Shaped as a version-5 UUID (name-based, SHA-1).
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Host and process attributes (OpenTelemetry semantic conventions). The command line is left out
 * on purpose: arguments may carry secrets (`--password=…`).
 */
export function processResourceAttributes(): Record<string, string | number> {
  return {
    'service.instance.id': serviceInstanceId(),
    'host.name': os.hostname(),
    'host.arch': ARCH[process.arch] ?? process.arch,
    'os.type': OS_TYPE[process.platform] ?? process.platform,
    'process.pid': process.pid,
    'process.runtime.name': 'nodejs',
    'process.runtime.version': process.versions.node,
    'process.runtime.description': 'Node.js',
  };
}
