--[[
  Discards the open window of one key without emitting it.

  KEYS[1] entry hash of the key's open window
  KEYS[2] index of open entries (zset)

  ARGV[1] throttle key (index member)

  Returns the dropped hash as a flat list (field, value, ...), or an empty list if there was none.
]]
local dropped = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
redis.call('ZREM', KEYS[2], ARGV[1])
return dropped
