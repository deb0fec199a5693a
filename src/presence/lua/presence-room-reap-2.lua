-- presence-room-reap-2
-- KEYS[1] room hash, KEYS[2] a dead gateway's share of it
-- Subtracts the share and deletes it; running it again changes nothing. Returns the users it touched.
local share = redis.call('HGETALL', KEYS[2])
for i = 1, #share, 2 do
  if redis.call('HINCRBY', KEYS[1], share[i], -tonumber(share[i + 1])) <= 0 then redis.call('HDEL', KEYS[1], share[i]) end
end
redis.call('DEL', KEYS[2])
return #share / 2
