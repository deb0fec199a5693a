-- Settles an idempotency key claimed by one publish attempt.
-- KEYS[1]  the idempotency key
-- ARGV[1]  the claim this attempt wrote ("wait|<fingerprint>|<token>")
-- ARGV[2]  the final value ("done|<fingerprint>|<event id>"), or "" to release the claim
-- ARGV[3]  TTL of the final value, ms
-- Returns 1 if settled, 0 if the key holds someone else's claim or result (left untouched).
local current = redis.call('GET', KEYS[1])
if ARGV[2] == '' then
  if current == ARGV[1] then
    redis.call('DEL', KEYS[1])
    return 1
  end
  return 0
end
-- A late success may find its claim expired: it still records the id unless another attempt
-- has claimed the key since.
if current == ARGV[1] or current == false then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
