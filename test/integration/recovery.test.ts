import { recoverySuite } from '../helpers/recovery-suite';
import { ServerProcess } from '../helpers/server-process';

recoverySuite('memory broker', (args) => ServerProcess.start(['--port', '0', '--host', '127.0.0.1', ...args]));
