import { deliverySuite } from '../helpers/delivery-suite';
import { ServerProcess } from '../helpers/server-process';

// The suite publishes over WebSocket: client publishing is off by default, so it is enabled here.
deliverySuite('memory broker', () =>
  ServerProcess.start(['--port', '0', '--host', '127.0.0.1', '--max-message-size', '4096', '--max-subscriptions-per-connection', '8', '--history-size', '0', '--client-publish', '*']),
);
