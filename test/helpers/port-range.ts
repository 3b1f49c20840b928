/** Consecutive free ports (admin ports are base + worker/instance). */
export { freePortRange } from './free-port';
