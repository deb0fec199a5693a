-- Presence Lua scripts. Each keeps a gateway's own share (what to undo if that gateway dies) and
-- the totals everyone reads in step, atomically, and reports transitions so that exactly one
-- caller learns that a user came online or went offline.
-- Every key arrives in KEYS (built by src/redis/keys.ts). Each script's keys share one hash tag:
-- the user and lease scripts work under the presence tag, the room scripts under the room's own
-- tag, so room presence spreads over a cluster's masters.
-- /
-- /**
-- presence-user-2
-- KEYS[1] gateway hash (user -> sockets here), KEYS[2] online hash (user -> sockets anywhere)
-- ARGV[1] user id, ARGV[2] delta (+n connects, -1 disconnects)
-- Returns 1 when the user went online (0 -> n) or offline (last socket anywhere), else 0.
-- A disconnect the gateway hash does not know (its entries were reaped) changes nothing.
local user = ARGV[1]
local delta = tonumber(ARGV[2])
if delta < 0 then
  local c = tonumber(redis.call('HGET', KEYS[1], user) or '0')
  if c <= 0 then return 0 end
  if c <= 1 then redis.call('HDEL', KEYS[1], user) else redis.call('HINCRBY', KEYS[1], user, -1) end
  local n = redis.call('HINCRBY', KEYS[2], user, -1)
  if n <= 0 then
    redis.call('HDEL', KEYS[2], user)
    return 1
  end
  return 0
end
redis.call('HINCRBY', KEYS[1], user, delta)
local n = redis.call('HINCRBY', KEYS[2], user, delta)
if n == delta then return 1 end
return 0
