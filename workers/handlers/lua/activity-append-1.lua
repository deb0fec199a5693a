--[[
  activity-append-1
  KEYS[1] the activity stream
  ARGV[1] max length (approximate: MAXLEN ~ trims in whole nodes); then 4 values per event: id,
  event, room, data JSON
  Appends every event in order, in one call (one command to build and parse, not one per event).
  Returns how many events it appended.
]]
for i = 2, #ARGV, 4 do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'id', ARGV[i], 'event', ARGV[i + 1], 'room', ARGV[i + 2], 'data', ARGV[i + 3])
end
return (#ARGV - 1) / 4
