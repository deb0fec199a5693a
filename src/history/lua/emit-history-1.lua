--[[
  Appends one event to its room's history and publishes it to the gateways, atomically, so the
  offset a client sees in meta.offset is exactly the event's position in the history.

  KEYS[1]  the room's history stream
  ARGV[1]  adapter channel to PUBLISH on
  ARGV[2]  message head: msgpack bytes up to the offset string
  ARGV[3]  message tail: msgpack bytes after the offset string
  ARGV[4]  max entries (MAXLEN ~)
  ARGV[5]  max age in ms: older entries are trimmed (MINID ~) and an idle stream expires
  ARGV[6]  event id (stable across retries; clients de-duplicate on it)
  ARGV[7]  event name
  ARGV[8]  JSON of [data, meta without offset] for replay

  Returns  { stream entry id (the event's offset in its room), gateway subscriptions reached }
]]
local t = redis.call('TIME')
local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local maxAge = tonumber(ARGV[5])
local offset = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[4], '*', 'i', ARGV[6], 'e', ARGV[7], 'p', ARGV[8])
redis.call('XTRIM', KEYS[1], 'MINID', '~', tostring(nowMs - maxAge))
redis.call('PEXPIRE', KEYS[1], maxAge)

-- msgpack string header for the offset (fixstr below 32 bytes, else str8)
local n = #offset
local header
if n < 32 then header = string.char(0xa0 + n) else header = string.char(0xd9, n) end
local receivers = redis.call('PUBLISH', ARGV[1], ARGV[2] .. header .. offset .. ARGV[3])
return { offset, receivers }
