/** Free ports for processes that cannot listen on port 0: the shared harness (harness/ports.ts). */
export { freePort, freePortRange, isPortFree } from '../../harness/ports';
