import { deliverySuite } from '../helpers/delivery-suite';
import { ServerProcess } from '../helpers/server-process';

deliverySuite('memory broker', () =>
  ServerProcess.start(['--port', '0', '--host', '127.0.0.1', '--max-message-size', '4096', '--max-subscriptions-per-connection', '8', '--history-size', '0']),
);
