--[[
  token-bucket-1
  KEYS[1]  the bucket hash (fields `t` tokens, `ts` last update in ms)
  ARGV[1]  burst (capacity), ARGV[2] refill tokens per second
  Returns  { allowed (1|0), retryAfterMs }
  Uses the Redis clock so gateways with skewed clocks share one bucket fairly. The key expires
  once the bucket would be full again, so idle subjects cost no memory.
]]
local burst = tonumber(ARGV[1])
local perMs = tonumber(ARGV[2]) / 1000
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 't', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * perMs)
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = math.ceil((1 - tokens) / perMs)
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / perMs) + 1000)
return { allowed, retry }
