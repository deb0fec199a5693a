-- presence-reap-users-4
-- KEYS[1] gateways zset, KEYS[2] online hash, KEYS[3] the gateway's hash, KEYS[4] reaping set
-- ARGV[1] gateway id, ARGV[2] `expired` (only if its lease still ran out) or `drop` (its own close)
-- Takes the gateway out of the live set and its users out of online, and marks it as reaping (its
-- rooms are undone next, one room script each). Only the caller that removed it hears of the users
-- who went offline. Returns { state, userWhoWentOffline... }: state 1 removed now, 2 already being
-- reaped by someone (rooms may be left to undo), 0 alive or unknown (leave it alone).
local gw = ARGV[1]
local lease = redis.call('ZSCORE', KEYS[1], gw)
if not lease then return { redis.call('SISMEMBER', KEYS[4], gw) == 1 and 2 or 0 } end
if ARGV[2] == 'expired' then
  local t = redis.call('TIME')
  if tonumber(lease) > tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) then return { 0 } end
end
local out = { 1 }
local users = redis.call('HGETALL', KEYS[3])
for i = 1, #users, 2 do
  local n = redis.call('HINCRBY', KEYS[2], users[i], -tonumber(users[i + 1]))
  if n <= 0 then
    redis.call('HDEL', KEYS[2], users[i])
    table.insert(out, users[i])
  end
end
redis.call('DEL', KEYS[3])
redis.call('ZREM', KEYS[1], gw)
redis.call('SADD', KEYS[4], gw)
return out
