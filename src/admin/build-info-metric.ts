import { Gauge, type Registry } from 'prom-client';
import type { LoadedUwsBuild } from '../uws/load-uws';

/**
 * `broadcaster_build_info`: always 1, labelled with what this process runs on — the uWS build
 * (current or legacy) and its version, Node.js version and ABI, and glibc — so a fleet's mix
 * of platforms shows in one query.
 */
export function registerBuildInfo(registry: Registry, prefix: string, build: LoadedUwsBuild): Gauge {
  const gauge = new Gauge({
    name: `${prefix}build_info`,
    help: 'Always 1; the labels say which uWebSockets.js build (current or legacy) and version, Node.js version and ABI, and glibc this process runs on.',
    labelNames: ['uws_build', 'uws_version', 'node_version', 'node_abi', 'glibc'],
    registers: [registry],
  });
  gauge.set(
    { uws_build: build.id, uws_version: build.version, node_version: process.version, node_abi: build.nodeAbi, glibc: build.glibc ?? 'none' },
    1,
  );
  return gauge;
}
