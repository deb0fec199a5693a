--[[
  Claims a window for emitting: renames its entry aside (to the claim key of its window id), so
  new events open a fresh window and a crash after the claim leaves the claim to be re-emitted.
  Asked for a window that is already claimed (a retry, or the sweep), returns that claim as is,
  so the re-emit carries the same meta.id and ts.

  KEYS[1] entry hash of the key's open window
  KEYS[2] index of open entries (zset)
  KEYS[3] index of claimed windows (zset)

  ARGV[1] window id to claim, or '' for whichever window of this key is open
  ARGV[2] pending id (index member)
  ARGV[3] claim key prefix

  Returns the claim hash as a flat list (field, value, ...), or an empty list if nothing is left.
]]
local entry, index, claims = KEYS[1], KEYS[2], KEYS[3]
local wanted = ARGV[1]
local open = redis.call('HGET', entry, 'id')
if open and (wanted == '' or open == wanted) then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local claim = ARGV[3] .. open
  redis.call('RENAME', entry, claim)
  redis.call('HSET', claim, 'claimedAt', now)
  redis.call('ZREM', index, ARGV[2])
  redis.call('ZADD', claims, now, open)
  return redis.call('HGETALL', claim)
end
if wanted == '' then return {} end
return redis.call('HGETALL', ARGV[3] .. wanted)
