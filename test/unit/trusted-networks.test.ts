import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import { test } from 'node:test';
import { ConfigError } from '../../src/config/config-error';
import { defaultOptions, type Options } from '../../src/config/options';
import { loadConfig } from '../../src/config/load-config';
import { Access, NO_TOKEN_GRANTS } from '../../src/security/access';
import { ChannelPatterns } from '../../src/security/channel-patterns';
import { findInsecureSettings } from '../../src/security/insecure-settings';
import { peerAddress } from '../../src/security/peer-address';
import { DEFAULT_TRUSTED_NETWORKS, PEER_VERDICTS, TrustedNetworks, isLoopbackHost, networkProblem } from '../../src/security/trusted-networks';

test('peer addresses as uWS gives them: IPv4, expanded IPv6, IPv4-mapped IPv6 (as IPv4), garbage', () => {
  assert.deepEqual(peerAddress('127.0.0.2'), { address: '127.0.0.2', family: 'ipv4' });
  assert.deepEqual(peerAddress('0000:0000:0000:0000:0000:ffff:7f00:0002'), { address: '127.0.0.2', family: 'ipv4' });
  assert.deepEqual(peerAddress('::ffff:10.1.2.3'), { address: '10.1.2.3', family: 'ipv4' });
  assert.deepEqual(peerAddress('0000:0000:0000:0000:0000:0000:0000:0001'), { address: '::1', family: 'ipv6' });
  assert.deepEqual(peerAddress(new TextEncoder().encode('fd00:0000:0000:0000:0000:0000:0000:0007').buffer), { address: 'fd00::7', family: 'ipv6' });
  assert.equal(peerAddress(''), null);
  assert.equal(peerAddress('not an address'), null);
});

test('trusted networks: the defaults are loopback; CIDR, single addresses and mapped peers match', () => {
  const defaults = new TrustedNetworks(DEFAULT_TRUSTED_NETWORKS);
  assert.equal(defaults.beyondLoopback, false);
  for (const peer of ['127.0.0.1', '127.255.0.9', '::1', '0000:0000:0000:0000:0000:ffff:7f00:0001']) assert.ok(defaults.contains(peerAddress(peer)!), peer);
  for (const peer of ['10.0.0.1', '::2', '::ffff:10.0.0.1', '128.0.0.1']) assert.ok(!defaults.contains(peerAddress(peer)!), peer);
  const narrow = new TrustedNetworks(['127.0.0.1/32', '10.1.0.0/16', 'fd00::/8', '192.168.1.7']);
  assert.equal(narrow.beyondLoopback, true);
  assert.ok(narrow.contains(peerAddress('10.1.200.3')!));
  assert.ok(!narrow.contains(peerAddress('10.2.0.1')!));
  assert.ok(narrow.contains(peerAddress('fd12::1')!));
  assert.ok(narrow.contains(peerAddress('192.168.1.7')!));
  assert.ok(!narrow.contains(peerAddress('192.168.1.8')!));
  assert.ok(!narrow.contains(peerAddress('127.0.0.2')!));
  assert.equal(new TrustedNetworks([]).contains(peerAddress('127.0.0.1')!), false, 'empty: nobody');
  assert.equal(new TrustedNetworks(['127.0.0.0/7']).beyondLoopback, true, '/7 reaches 126.x');
  assert.equal(new TrustedNetworks(['::ffff:127.0.0.0/104', '127.1.0.0/16']).beyondLoopback, false);
});

test('judging peers from uWS text: the same verdicts as parsing each time, also once the kept verdicts are forgotten', () => {
  const networks = new TrustedNetworks(['10.1.0.0/16', '::1']);
  const expect = (text: string): { peer: ReturnType<typeof peerAddress>; trusted: boolean } => {
    const peer = peerAddress(text);
    return { peer, trusted: peer !== null && networks.contains(peer) };
  };
  const texts = ['10.1.0.9', '10.2.0.9', '0000:0000:0000:0000:0000:0000:0000:0001', '0000:0000:0000:0000:0000:ffff:0a01:0002', 'garbage', ''];
  for (let round = 0; round < 2; round++) for (const text of texts) assert.deepEqual(networks.judge(text), expect(text), `${text} (round ${round})`);
  // More distinct peers than are kept: every verdict stays right while the kept ones are dropped and rebuilt.
  for (let i = 0; i < PEER_VERDICTS * 2 + 10; i++) {
    const text = `10.${i % 4}.${(i >> 8) & 255}.${i & 255}`;
    assert.equal(networks.judge(text).trusted, i % 4 === 1, text);
  }
  for (const text of texts) assert.deepEqual(networks.judge(text), expect(text), `${text} after many peers`);
  assert.ok(networks.keptVerdicts <= PEER_VERDICTS, `kept ${networks.keptVerdicts} verdicts`);
  assert.ok(networks.keptVerdicts >= texts.length, 'the recent ones are kept');
});

test('a peer judged again is not matched again; its verdict cannot be changed', (t) => {
  const networks = new TrustedNetworks(['10.1.0.0/16']);
  const check = t.mock.method(BlockList.prototype, 'check');
  const first = networks.judge('10.1.0.9');
  const matched = check.mock.callCount();
  assert.ok(matched >= 1);
  for (let i = 0; i < 5; i++) assert.equal(networks.judge('10.1.0.9'), first);
  assert.equal(check.mock.callCount(), matched, 'kept, not matched again');
  assert.throws(() => {
    (first.peer as { address: string }).address = '10.9.9.9';
  }, TypeError);
  assert.equal(networks.judge('10.1.0.9').peer?.address, '10.1.0.9');
});

test('invalid entries are refused with the option named', () => {
  for (const bad of ['localhost', '10.0.0.0/33', '::/129', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/8/8', '300.1.1.1'])
    assert.notEqual(networkProblem(bad), null, bad);
  assert.throws(
    () => new TrustedNetworks(['10.0.0.0/33']),
    (err: unknown) => err instanceof ConfigError && err.option === 'trustedNetworks' && /--trusted-networks/.test(err.message),
  );
  assert.throws(
    () => loadConfig(['--trusted-networks', '127.0.0.1/8,nope']),
    (err: unknown) => err instanceof ConfigError && /"nope" is not an IP address/.test(err.message),
  );
  const request = loadConfig([], { BROADCASTER_TRUSTED_NETWORKS: '10.0.0.0/8, ::1' });
  assert.deepEqual(request.kind === 'run' && request.options.trustedNetworks, ['10.0.0.0/8', '::1']);
});

test('loopback listeners', () => {
  for (const host of ['127.0.0.1', '127.0.0.5', '::1', '[::1]', 'localhost']) assert.ok(isLoopbackHost(host), host);
  for (const host of ['0.0.0.0', '::', '10.0.0.5', 'example.com']) assert.ok(!isLoopbackHost(host), host);
});

test('client publishing: off without patterns unless a token claim grants it; patterns bound the claim', () => {
  const all = new ChannelPatterns(['*']);
  const none = new ChannelPatterns([]);
  const chat = new ChannelPatterns(['chat:*']);
  assert.equal(new Access(all, none, NO_TOKEN_GRANTS, null, null).canPublish('chat:1'), false);
  assert.equal(new Access(all, none, { subscribe: null, publish: chat }, 'u', null).canPublish('chat:1'), true);
  assert.equal(new Access(all, none, { subscribe: null, publish: chat }, 'u', null).canPublish('news'), false);
  assert.equal(new Access(all, chat, NO_TOKEN_GRANTS, null, null).canPublish('chat:1'), true);
  assert.equal(new Access(all, chat, { subscribe: null, publish: all }, 'u', null).canPublish('news'), false, 'the claim cannot widen the server patterns');
  const off =
    'not allowed to publish to news: client publishing is off unless the server lists the channel in --client-publish or the token\'s "publish" claim grants it; publish from a backend (HTTP API, Redis) instead';
  const outside = 'not allowed to publish to news: it is outside --client-publish or the token\'s "publish" claim; publish from a backend instead';
  assert.equal(new Access(all, none, NO_TOKEN_GRANTS, null, null).publishRefusal('news'), off);
  assert.equal(new Access(all, none, { subscribe: null, publish: chat }, 'u', null).publishRefusal('news'), outside, 'a claim that does not grant it');
  assert.equal(new Access(all, chat, NO_TOKEN_GRANTS, null, null).publishRefusal('news'), outside, 'server patterns that do not list it');
});

test('insecure settings: the defaults have one (anonymous on 0.0.0.0); each condition alone', () => {
  const names = (overrides: Partial<Options>): string[] => findInsecureSettings({ ...defaultOptions(), ...overrides }).map((s) => s.name);
  assert.deepEqual(names({}), ['anonymous_public_listener']);
  assert.deepEqual(names({ host: '127.0.0.1' }), []);
  assert.deepEqual(names({ jwtSecret: 'x'.repeat(32), anonymous: 'deny' }), []);
  assert.deepEqual(names({ host: '127.0.0.1', clientPublish: ['*'] }), ['client_publish_all']);
  assert.deepEqual(names({ host: '127.0.0.1', clientPublish: ['chat:*'] }), []);
  assert.deepEqual(names({ host: '::', anonymous: 'deny', jwtSecret: 'x'.repeat(32), trustedNetworks: ['10.0.0.0/8'] }), ['http_api_beyond_loopback']);
  assert.deepEqual(names({ host: '::', anonymous: 'deny', jwtSecret: 'x'.repeat(32), trustedNetworks: ['10.0.0.0/8'], apiKeys: ['k'] }), []);
  assert.deepEqual(names({ host: '127.0.0.1', trustedNetworks: ['0.0.0.0/0'] }), [], 'a loopback listener is reached from loopback only');
});
