-- presence-beat-2
-- KEYS[1] gateways zset (gateway -> lease end, ms), KEYS[2] reaping set
-- ARGV[1] this gateway id, ARGV[2] TTL ms
-- Renews this gateway's lease. Returns { leaseExisted (1|0), gatewaysToReap... }: those whose lease
-- ran out (up to 20) and those whose reaping someone began and may not have finished.
-- leaseExisted 0 means this gateway had been reaped (or is new): it must re-register its sockets.
local me, ttl = ARGV[1], tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local existed = redis.call('ZSCORE', KEYS[1], me) and 1 or 0
redis.call('ZADD', KEYS[1], now + ttl, me)
local out = { existed }
for _, gw in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 20)) do
  if gw ~= me then table.insert(out, gw) end
end
for _, gw in ipairs(redis.call('SRANDMEMBER', KEYS[2], 20)) do
  if gw ~= me then table.insert(out, gw) end
end
return out
