import { Failures, type HttpFailure } from '../protocol/errors';
import type { ApiKeys } from './api-keys';
import type { TrustedNetworks } from './trusted-networks';

/** A refused HTTP API request: the catalogued failure (status, JSON `error`), the message and headers. */
export interface HttpApiRefusal {
  failure: HttpFailure;
  message: string;
  headers: Record<string, string>;
}

const BEARER = { 'WWW-Authenticate': 'Bearer' };

/**
 * Who may call the HTTP API: with `--api-key`, requests with a valid key (from anywhere);
 * without, only peers inside `--trusted-networks` (loopback by default). The peer is the TCP
 * socket's address: `X-Forwarded-For` and `Forwarded` are never read.
 */
export class HttpApiAccess {
  constructor(
    private readonly apiKeys: ApiKeys,
    private readonly networks: TrustedNetworks,
  ) {}

  /**
   * Judges one request from its Authorization header and its peer address (read lazily:
   * `remoteAddress` returns uWS `getRemoteAddressAsText()`); null when it may proceed.
   */
  check(authorization: string, remoteAddress: () => ArrayBuffer | string): HttpApiRefusal | null {
    if (this.apiKeys.required) {
      const verdict = this.apiKeys.check(authorization);
      if (verdict === 'ok') return null;
      if (verdict === 'missing') return { failure: Failures.unauthorized.http, message: 'this API needs a key: send Authorization: Bearer <key>', headers: BEARER };
      return { failure: Failures.forbiddenKey.http, message: 'the API key is not valid', headers: {} };
    }
    const raw = remoteAddress();
    const { peer, trusted } = this.networks.judge(typeof raw === 'string' ? raw : Buffer.from(raw).toString('latin1'));
    if (trusted) return null;
    const networks = this.networks.entries.length === 0 ? 'none' : this.networks.entries.join(',');
    return {
      failure: Failures.untrustedNetwork.http,
      message:
        `the HTTP API has no --api-key, so it answers only peers in --trusted-networks (${networks}) and ${peer?.address ?? 'this peer'} is outside them: ` +
        'start the server with --api-key <key> and send Authorization: Bearer <key>, or add this network to --trusted-networks (the socket address decides; X-Forwarded-For is ignored)',
      headers: BEARER,
    };
  }
}
