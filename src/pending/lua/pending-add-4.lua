--[[
  Adds one accepted event to the open window of its throttled key and says what the caller must
  do next. One call per event, O(1) whatever the size of the burst.

  Every key is in the key's shard, P = <prefix>:pending:{<prefix>:<shard>} (one cluster slot):
  KEYS[1] entry hash of the key's open window     (P:entry:<pending id>)
  KEYS[2] the shard's index of open entries       (P:index)
  KEYS[3] leading-mode window marker              (P:lead:<pending id>)
  KEYS[4] the shard's index of claimed windows    (P:claims)

  ARGV[1] mode: latest | batch | leading
  ARGV[2] payload, JSON
  ARGV[3] window length in ms
  ARGV[4] batch cap (items per emit)
  ARGV[5] id for the window if this event opens one (becomes the emit's meta.id)
  ARGV[6] namespace   ARGV[7] event   ARGV[8] room   ARGV[9] pending id (index member)
  ARGV[10] claim key prefix P:claim: (a sealed batch is renamed to prefix .. window id)

  Returns { status, window id, delay ms }:
    0 added to the open window, nothing to do
    1 opened a window: schedule its flush in `delay ms`
    2 leading mode, key was idle: emit this event now (the window is now marked open)
    3 batch reached its cap: the window is sealed as a claim, flush it now
]]
local entry, index, lead, claims = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local mode, payload = ARGV[1], ARGV[2]
local windowMs, cap = tonumber(ARGV[3]), tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local function sealIfFull(id, count)
  if mode ~= 'batch' or count < cap then return nil end
  local claim = ARGV[10] .. id
  redis.call('RENAME', entry, claim)
  redis.call('HSET', claim, 'claimedAt', now)
  redis.call('ZREM', index, ARGV[9])
  redis.call('ZADD', claims, now, id)
  return { 3, id, 0 }
end

-- One HSET per event: the payload (or item) and the last-seen time together.
local function store(count)
  local field = mode == 'batch' and ('i:' .. count) or 'data'
  redis.call('HSET', entry, field, payload, 'last', now)
end

local id = redis.call('HGET', entry, 'id')
if id then
  local count = redis.call('HINCRBY', entry, 'count', 1)
  store(count)
  return sealIfFull(id, count) or { 0, id, 0 }
end

local delay = windowMs
if mode == 'leading' then
  local ttl = redis.call('PTTL', lead)
  if ttl <= 0 then
    redis.call('SET', lead, ARGV[5], 'PX', windowMs)
    return { 2, '', 0 }
  end
  delay = ttl
end

id = ARGV[5]
redis.call('HSET', entry, 'id', id, 'ns', ARGV[6], 'event', ARGV[7], 'room', ARGV[8], 'mode', mode,
  'windowMs', windowMs, 'first', now, 'last', now, 'count', 1)
store(1)
redis.call('ZADD', index, now, ARGV[9])
return sealIfFull(id, 1) or { 1, id, delay }
