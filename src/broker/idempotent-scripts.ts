import { LUA_ENVELOPE_TAIL, LUA_SEQUENCED_ENVELOPE } from '../protocol/envelope';
import type { PublishResult, StreamPosition } from './broker';
import { type FanoutCommand, HELPERS } from './redis-scripts';

/**
 * Lua scripts of publications with an idempotency key (publications without one never run them).
 * Per channel and key, one string key `<prefix>i:<channel>/<key>` (on a cluster
 * `<prefix>{<tag>}i:<channel>/<key>`, the channel's slot) holds the result of the first publish,
 * `<offset>:<epoch>` with history or empty without, for the idempotency ttl. A publish that
 * finds it publishes nothing and answers it. `fanout` is PUBLISH, or SPUBLISH on a cluster.
 */

/**
 * The history publish with idempotency keys, for n publications of one channel in order.
 * KEYS: stream, meta, then the idempotency keys. ARGV: history size, history ttl, meta ttl,
 * fan-out channel, epoch candidate, idempotency ttl, then per publication its key's index in KEYS
 * counted from 3 (0: no key) and its data element. A publication whose key is new sets it to
 * `<offset>:<epoch>` (SET NX EX: the check and the write are one command), gets that offset, and
 * is stored and fanned out as PUBLISH_SCRIPT does; one whose key exists answers the stored string
 * and publishes nothing; the stream is trimmed once, after the n. Returns { epoch, result 1 ..
 * result n }: an offset (published now) or the stored string (a repeat).
 */
export function idempotentPublishScript(fanout: FanoutCommand): string {
  return `${HELPERS}
local epoch = ensure_epoch(KEYS[1], KEYS[2], ARGV[5], ARGV[3])
local top = tonumber(redis.call('HGET', KEYS[2], 's'))
local last = top
local n = (#ARGV - 6) / 2
local now = redis.call('TIME')
local published_at = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local tail = ${LUA_ENVELOPE_TAIL}
local result = { epoch }
for i = 1, n do
  local k = tonumber(ARGV[5 + 2 * i])
  local offset = last + 1
  if k == 0 or redis.call('SET', KEYS[2 + k], string.format('%d:%s', offset, epoch), 'NX', 'EX', ARGV[6]) then
    local data = ARGV[6 + 2 * i]
    local envelope = ${LUA_SEQUENCED_ENVELOPE}
    redis.call('XADD', KEYS[1], string.format('%d-0', offset), 'e', envelope)
    redis.call('${fanout}', ARGV[4], envelope)
    result[i + 1] = offset
    last = offset
  else
    result[i + 1] = redis.call('GET', KEYS[2 + k])
  end
end
if last > top then
  redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', ARGV[1])
  redis.call('HSET', KEYS[2], 's', last)
  redis.call('EXPIRE', KEYS[2], ARGV[3])
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return result
`;
}

/**
 * A publication with an idempotency key on a channel without history. KEYS: the idempotency key.
 * ARGV: fan-out channel, envelope, idempotency ttl. A new key is set (to an empty string, SET NX
 * EX) and the envelope fanned out, returning nil; an existing key answers its stored string and
 * nothing is published.
 */
export function idempotentFanoutScript(fanout: FanoutCommand): string {
  return `
if redis.call('SET', KEYS[1], '', 'NX', 'EX', ARGV[3]) then
  redis.call('${fanout}', ARGV[1], ARGV[2])
  return false
end
return redis.call('GET', KEYS[1])
`;
}

/** Reads a stored result: `<offset>:<epoch>` → its position, empty → null (no history). */
export function storedPosition(stored: string): StreamPosition | null {
  const colon = stored.indexOf(':');
  return colon < 0 ? null : { offset: Number(stored.slice(0, colon)), epoch: stored.slice(colon + 1) };
}

/** One result of idempotentPublishScript: an offset published now (in `epoch`), or the stored result of a repeat. */
export function onceResult(value: string | number, epoch: string): PublishResult {
  return typeof value === 'number' ? { position: { offset: value, epoch }, repeated: false } : { position: storedPosition(value), repeated: true };
}
