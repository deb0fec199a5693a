--[[
  Emits a delivery batch in one call: for every event, in batch order, appends it to its room's
  history (if the event keeps history) and publishes the Socket.IO adapter message, with
  meta.offset = the event's stream id spliced into the message. In the same step it hands the
  batch's events that have server-side handlers to the handler inbox, and records the batch as
  emitted, so a re-run of the same job (a stalled job) publishes nothing twice.

  KEYS[1]      the batch's emit marker
  KEYS[2]      the handler inbox (a stream read by the workers' consumer group); unused when
               ARGV[2] is '' (on Redis Cluster the worker appends to the inbox after the emit,
               and passes the marker here again: every key of a call is in one slot)
  KEYS[3..]    history streams of the batch's rooms that keep history, each once (S = #KEYS - 2)
  ARGV[1]      marker TTL in ms
  ARGV[2]      handler work: JSON of the events that have handlers, '' for none
  ARGV[3]      C = number of adapter channels
  ARGV[4..]    per stream s (1..S), 2 values: max entries (MAXLEN ~), max age in ms;
               then the C channels
  ARGV[last-1] PUBLISH, or SPUBLISH on Redis Cluster (the channels then share the keys' slot)
  ARGV[last]   the events, packed one after another (big-endian), one argument for the whole
               batch so the client and Redis parse one value instead of several per event:
                 u16 stream number (0 = no history), u16 channel number (1..C),
                 u8 id length, id, u32 head length, head, u32 tail length, tail
               head = msgpack bytes up to the offset string (the whole message without history),
               tail = the bytes after it

  The history entry keeps the head and tail, not a second encoding: recovery rebuilds the exact
  message from them and the entry id.

  Returns  { 0 = emitted now | 1 = emitted by an earlier run (nothing published),
             offsets joined by ',' in event order ('' for an event without history) }
]]
local done = redis.call('GET', KEYS[1])
if done then return { 1, done } end

local S = #KEYS - 2
local C = tonumber(ARGV[3])
local channels = 3 + 2 * S
local packed = ARGV[#ARGV]
local publish = ARGV[#ARGV - 1]
if publish ~= 'PUBLISH' and publish ~= 'SPUBLISH' then return redis.error_reply('ERR publish command must be PUBLISH or SPUBLISH') end
local offsets = {}
local pos = 1
local n = 0

while pos <= #packed do
  local s, c, idLen
  s, c, idLen, pos = struct.unpack('>HHB', packed, pos)
  local id = string.sub(packed, pos, pos + idLen - 1)
  pos = pos + idLen
  local headLen, tailLen
  headLen, pos = struct.unpack('>I4', packed, pos)
  local head = string.sub(packed, pos, pos + headLen - 1)
  pos = pos + headLen
  tailLen, pos = struct.unpack('>I4', packed, pos)
  local tail = string.sub(packed, pos, pos + tailLen - 1)
  pos = pos + tailLen
  n = n + 1
  if s > 0 then
    local offset = redis.call('XADD', KEYS[2 + s], 'MAXLEN', '~', ARGV[2 + 2 * s], '*', 'i', id, 'h', head, 't', tail)
    -- msgpack string header for the offset (fixstr below 32 bytes, else str8)
    local len = #offset
    local header
    if len < 32 then header = string.char(0xa0 + len) else header = string.char(0xd9, len) end
    redis.call(publish, ARGV[channels + c], head .. header .. offset .. tail)
    offsets[n] = offset
  else
    redis.call(publish, ARGV[channels + c], head)
    offsets[n] = ''
  end
end

if S > 0 then
  local t = redis.call('TIME')
  local nowMs = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  for s = 1, S do
    local maxAge = tonumber(ARGV[3 + 2 * s])
    redis.call('XTRIM', KEYS[2 + s], 'MINID', '~', tostring(nowMs - maxAge))
    redis.call('PEXPIRE', KEYS[2 + s], maxAge)
  end
end

local joined = table.concat(offsets, ',')
if ARGV[2] ~= '' then redis.call('XADD', KEYS[2], '*', 'e', ARGV[2], 'o', joined) end
redis.call('SET', KEYS[1], joined, 'PX', ARGV[1])
return { 0, joined }
