/**
 * Presence Lua scripts. Each keeps the per-gateway hash (what to undo if that gateway dies) and
 * the global hashes (what everyone reads) in step, atomically, and reports transitions so that
 * exactly one caller learns that a user came online or went offline.
 *
 * Key shapes built inside the scripts (ARGV prefix = Keys.presencePrefix) match src/redis/keys.ts:
 * `<prefix>:gw:<gateway>` and `<prefix>:room:<ns>:<room>`. The prefix carries one hash tag, so on
 * Redis Cluster every key a script touches is in the same slot.
 */

/**
 * presence-user-3
 * KEYS[1] gateway hash, KEYS[2] online hash
 * ARGV[1] user id, ARGV[2] delta (+n connects, -1 disconnects)
 * Returns 1 when the user went online (0 -> n) or offline (last socket anywhere), else 0.
 * A disconnect the gateway hash does not know (its entries were reaped) changes nothing.
 */
export const PRESENCE_USER_LUA = `
local f = 'u|' .. ARGV[1]
local delta = tonumber(ARGV[2])
if delta < 0 then
  local c = tonumber(redis.call('HGET', KEYS[1], f) or '0')
  if c <= 0 then return 0 end
  if c <= 1 then redis.call('HDEL', KEYS[1], f) else redis.call('HINCRBY', KEYS[1], f, -1) end
  local n = redis.call('HINCRBY', KEYS[2], ARGV[1], -1)
  if n <= 0 then
    redis.call('HDEL', KEYS[2], ARGV[1])
    return 1
  end
  return 0
end
redis.call('HINCRBY', KEYS[1], f, delta)
local n = redis.call('HINCRBY', KEYS[2], ARGV[1], delta)
if n == delta then return 1 end
return 0
`;

/**
 * presence-room-2
 * KEYS[1] gateway hash, KEYS[2] room hash
 * ARGV[1] gateway-hash field (`r|<ns>|<room>|<user>`), ARGV[2] user id, ARGV[3] delta (+n / -1)
 * Returns the user's socket count left in the room.
 */
export const PRESENCE_ROOM_LUA = `
local delta = tonumber(ARGV[3])
if delta < 0 then
  local c = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
  if c <= 0 then return 0 end
  if c <= 1 then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HINCRBY', KEYS[1], ARGV[1], -1) end
end
if delta > 0 then redis.call('HINCRBY', KEYS[1], ARGV[1], delta) end
local n = redis.call('HINCRBY', KEYS[2], ARGV[2], delta)
if n <= 0 then redis.call('HDEL', KEYS[2], ARGV[2]) end
return n
`;

/**
 * presence-lease-2
 * KEYS[1] gateways zset (gateway -> lease end, ms), KEYS[2] online hash
 * ARGV[1] presence prefix, ARGV[2] mode `beat` | `drop`, ARGV[3] this gateway id, ARGV[4] TTL ms
 * `beat`: renews this gateway's lease, then reaps up to 20 gateways whose lease ran out.
 * `drop`: removes this gateway's entries at once (graceful shutdown).
 * Returns { leaseExisted (1|0), userWhoWentOffline... }. leaseExisted 0 on a beat means this
 * gateway had been reaped (or is new): it must re-register its sockets.
 */
export const PRESENCE_LEASE_LUA = `
local prefix, mode, me, ttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local offline = {}
local function reap(gw)
  local hk = prefix .. ':gw:' .. gw
  local all = redis.call('HGETALL', hk)
  for i = 1, #all, 2 do
    local f, c = all[i], tonumber(all[i + 1])
    if string.sub(f, 1, 2) == 'u|' then
      local user = string.sub(f, 3)
      local n = redis.call('HINCRBY', KEYS[2], user, -c)
      if n <= 0 then
        redis.call('HDEL', KEYS[2], user)
        table.insert(offline, user)
      end
    else
      local ns, room, user = string.match(f, '^r|([^|]+)|([^|]+)|([^|]+)$')
      if user then
        local rk = prefix .. ':room:' .. ns .. ':' .. room
        if redis.call('HINCRBY', rk, user, -c) <= 0 then redis.call('HDEL', rk, user) end
      end
    end
  end
  redis.call('DEL', hk)
  redis.call('ZREM', KEYS[1], gw)
end
if mode == 'drop' then
  reap(me)
  return { 1, unpack(offline) }
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local existed = redis.call('ZSCORE', KEYS[1], me) and 1 or 0
redis.call('ZADD', KEYS[1], now + ttl, me)
local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 20)
for _, gw in ipairs(dead) do
  if gw ~= me then reap(gw) end
end
return { existed, unpack(offline) }
`;
