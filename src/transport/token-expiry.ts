import { CloseCode } from '../protocol/opcodes';
import type { SocketData } from './socket-context';
import type { WebSocket } from './uws';

/** Longest delay setTimeout accepts; later expiries re-arm. */
const MAX_DELAY = 2 ** 31 - 1;

/** Reason sent with the token-expired close frame. */
export const TOKEN_EXPIRED_REASON = 'token expired: reconnect with a fresh token';

/** (Re)schedules the close of `ws` when its token expires; no-op for tokens without expiry. */
export function armTokenExpiry(ws: WebSocket<SocketData>): void {
  const data = ws.getUserData();
  if (data.expiryTimer !== null) clearTimeout(data.expiryTimer);
  data.expiryTimer = null;
  const expiresAt = data.access.expiresAt;
  if (expiresAt === null) return;
  const fire = (): void => {
    data.expiryTimer = null;
    if (data.closed) return;
    const left = (data.access.expiresAt ?? Infinity) - Date.now();
    if (left > 0) {
      data.expiryTimer = setTimeout(fire, Math.min(left, MAX_DELAY));
      return;
    }
    ws.end(CloseCode.TokenExpired, TOKEN_EXPIRED_REASON);
  };
  data.expiryTimer = setTimeout(fire, Math.min(Math.max(0, expiresAt - Date.now()), MAX_DELAY));
}

/** Cancels the expiry timer of a closing socket. */
export function clearTokenExpiry(data: SocketData): void {
  if (data.expiryTimer !== null) clearTimeout(data.expiryTimer);
  data.expiryTimer = null;
}
