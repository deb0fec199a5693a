-- presence-room-2
-- KEYS[1] room hash (user -> sockets anywhere), KEYS[2] this gateway's share of it
-- ARGV[1] user id, ARGV[2] delta (+n joins, -1 leaves)
-- A leave never takes more than this gateway's share (after a reap it takes nothing).
-- Returns the user's sockets left in the room.
local user, delta = ARGV[1], tonumber(ARGV[2])
local mine = tonumber(redis.call('HGET', KEYS[2], user) or '0')
if delta < 0 then delta = math.max(delta, -mine) end
if delta == 0 then return tonumber(redis.call('HGET', KEYS[1], user) or '0') end
if mine + delta <= 0 then redis.call('HDEL', KEYS[2], user) else redis.call('HINCRBY', KEYS[2], user, delta) end
local total = redis.call('HINCRBY', KEYS[1], user, delta)
if total <= 0 then redis.call('HDEL', KEYS[1], user) end
return total
