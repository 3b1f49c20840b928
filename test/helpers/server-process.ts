/** Broadcaster processes for tests: the shared harness (harness/broadcaster.ts). */
export { CLI, type LogLine, readyzStatus, ServerProcess, startReady, startReadyWith } from '../../harness/broadcaster';
