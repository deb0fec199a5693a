--[[
  The open window of one throttled key: add an accepted event to it, or claim it for emitting.
  One script for both, so the claim sequence exists once (claimInto below).

  A claim renames the window's entry aside to a claim hash, so new events open a fresh window and
  a crash after the claim leaves the claim to be re-emitted. Claims are named by a claim id: the
  window's own id when a flush claims it, a fresh id (from the caller) when an add seals a full
  batch window. The claim hash keeps its claim id in the field `claimId`.

  Every key is in the key's shard, P = <prefix>:throttle:{<prefix>:<shard>} (one cluster slot):
  KEYS[1] entry hash of the key's open window     (P:entry:<throttle key>)
  KEYS[2] the shard's index of open entries       (P:index)
  KEYS[3] leading-mode window marker              (P:lead:<throttle key>)
  KEYS[4] the shard's index of claims (zset)      (P:claims)
  KEYS[5] the claim hash this call may create     (P:claim:<claim id>)

  ARGV[1] op: add | claim
  ARGV[2] throttle key (index member)
  ARGV[3] claim id (claim: the window id wanted; add: used only if this event seals the window)

  claim: claims the open window if it is the one wanted; asked for a window already claimed (a
  retry, the sweep, or another caller first) it returns that claim as is, so the re-emit carries
  the same meta.id and ts. Returns the claim hash as a flat list (field, value, ...), or an empty
  list if nothing is left.

  add: one call per event, O(1) whatever the size of the burst.
  ARGV[4] mode: latest | batch | leading    ARGV[5] payload, JSON
  ARGV[6] window length in ms               ARGV[7] batch cap (items per emit)
  ARGV[8] id for the window if this event opens one (becomes the emit's meta.id); the caller
          passes the same fresh id as ARGV[3]: a window sealed as it opens is claimed under its own id
  ARGV[9] namespace   ARGV[10] event   ARGV[11] room
  Returns { status, window id, delay ms }:
    0 added to the open window, nothing to do
    1 opened a window: schedule its flush in `delay ms`
    2 leading mode, key was idle: emit this event now (the window is now marked open)
    3 batch reached its cap: the window is claimed under ARGV[3], flush that claim now
]]
local entry, index, lead, claims, claim = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local op, throttleKey, claimId = ARGV[1], ARGV[2], ARGV[3]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

local function claimInto()
  redis.call('RENAME', entry, claim)
  redis.call('HSET', claim, 'claimedAt', now, 'claimId', claimId)
  redis.call('ZREM', index, throttleKey)
  redis.call('ZADD', claims, now, claimId)
end

if op == 'claim' then
  if redis.call('HGET', entry, 'id') == claimId then claimInto() end
  return redis.call('HGETALL', claim)
end
if op ~= 'add' then return redis.error_reply('unknown op ' .. tostring(op)) end

local mode, payload = ARGV[4], ARGV[5]
local windowMs, cap = tonumber(ARGV[6]), tonumber(ARGV[7])

-- One HSET per event: the payload (or item) and the last-seen time together.
local function store(count)
  local field = mode == 'batch' and ('i:' .. count) or 'data'
  redis.call('HSET', entry, field, payload, 'last', now)
end

local function sealIfFull(id, count)
  if mode ~= 'batch' or count < cap then return nil end
  claimInto()
  return { 3, id, 0 }
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
    redis.call('SET', lead, ARGV[8], 'PX', windowMs)
    return { 2, '', 0 }
  end
  delay = ttl
end

id = ARGV[8]
redis.call('HSET', entry, 'id', id, 'ns', ARGV[9], 'event', ARGV[10], 'room', ARGV[11], 'mode', mode,
  'windowMs', windowMs, 'first', now, 'last', now, 'count', 1)
store(1)
redis.call('ZADD', index, now, throttleKey)
return sealIfFull(id, 1) or { 1, id, delay }
