/**
 * The one Lua script of the Redis presence store. KEYS: entries hash, users hash, node deadlines
 * zset. ARGV: node-set key base, node, now (ms), ttl (ms), mode (apply | beat | list | counts),
 * number of joins, then (client, user or '', entry JSON) per join, then the client ids leaving.
 * First removes the entries of other nodes whose deadline passed; `apply`/`beat` then write this node's
 * changes and renew its deadline (and the keys' expiry, 2 × ttl + 1 s). Returns
 * `{joined JSONs, left JSONs, result}`: result is the entries (list), `{clients, users}` (counts),
 * or for apply/beat 1 when this node's own deadline had passed (its entries may be gone), else 0.
 * Every step is O(1) per change; only a dead node's cleanup walks that node's entries, once.
 */
export const PRESENCE_SCRIPT = `
local clients, users, nodes = KEYS[1], KEYS[2], KEYS[3]
local base, node, now, ttl, mode = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local left, joined = {}, {}
-- 1 when this node's deadline had passed (or it had none): other writes may have removed its entries.
local mine_score = redis.call('ZSCORE', nodes, node)
local lapsed = (mine_score == false or tonumber(mine_score) <= now) and 1 or 0
local function drop(id)
  local v = redis.call('HGET', clients, id)
  if not v then return end
  redis.call('HDEL', clients, id)
  local u = cjson.decode(v).user
  if type(u) == 'string' and redis.call('HINCRBY', users, u, -1) <= 0 then redis.call('HDEL', users, u) end
  left[#left + 1] = v
end
-- A node never expires itself: it is alive, whatever its deadline says.
for _, dead in ipairs(redis.call('ZRANGEBYSCORE', nodes, '-inf', now)) do
  if dead ~= node then
    local set = base .. dead
    for _, id in ipairs(redis.call('SMEMBERS', set)) do drop(id) end
    redis.call('DEL', set)
    redis.call('ZREM', nodes, dead)
  end
end
if mode == 'apply' or mode == 'beat' then
  local mine = base .. node
  local i = 7
  for _ = 1, tonumber(ARGV[6]) do
    local id, u, v = ARGV[i], ARGV[i + 1], ARGV[i + 2]
    i = i + 3
    if redis.call('HSETNX', clients, id, v) == 1 then
      if u ~= '' then redis.call('HINCRBY', users, u, 1) end
      redis.call('SADD', mine, id)
      joined[#joined + 1] = v
    end
  end
  while i <= #ARGV do
    if redis.call('SREM', mine, ARGV[i]) == 1 then drop(ARGV[i]) end
    i = i + 1
  end
  redis.call('ZADD', nodes, now + ttl, node)
  local keep = ttl * 2 + 1000
  for _, key in ipairs({clients, users, nodes, mine}) do redis.call('PEXPIRE', key, keep) end
  return {joined, left, lapsed}
end
if mode == 'list' then return {joined, left, redis.call('HVALS', clients)} end
return {joined, left, {redis.call('HLEN', clients), redis.call('HLEN', users)}}
`;
