package ratelimit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the cluster limiter: every node shares one Redis, so a user's
// limit holds whichever node handles the command.
//
// Keys: <prefix>:{rl}:<key>, a ZSET of events scored by the Redis server's
// time in microseconds, expiring one window after the last allowed event.
type Redis struct {
	c    redis.UniversalClient
	base string // "<prefix>:{rl}:"
}

var _ Limiter = (*Redis)(nil)

// NewRedis returns a limiter keeping its logs under prefix ("" means
// "mirrorleech"). The client is not closed by the limiter.
func NewRedis(client redis.UniversalClient, prefix string) *Redis {
	if prefix == "" {
		prefix = "mirrorleech"
	}
	return &Redis{c: client, base: prefix + ":{rl}:"}
}

// allowScript is one atomic sliding-window step: prune events that left the
// window, count, add if under the limit. Time comes from the server (TIME),
// so the nodes' clocks do not matter. Members are "<s>.<µs>-<random>" so two
// events in the same microsecond are both recorded. Scores in µs since the
// epoch are exact as doubles (< 2^53).
//
// ARGV: window µs, limit, random suffix, window ms (the key's TTL).
// Returns {1, 0} when allowed, {0, µs until the next event fits} otherwise.
var allowScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n < limit then
  redis.call('ZADD', KEYS[1], now, t[1] .. '.' .. t[2] .. '-' .. ARGV[3])
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  return {1, 0}
end
local e = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
return {0, tonumber(e[2]) + window - now}
`)

// Allow implements Limiter. Redis errors are returned wrapped, with ok
// false: whether to fail open is the caller's choice.
func (r *Redis) Allow(ctx context.Context, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	if limit <= 0 {
		return true, 0, nil
	}
	if window <= 0 {
		return false, 0, ErrBadWindow
	}
	us := max(1, (window+time.Microsecond-1)/time.Microsecond)
	ms := max(1, (window+time.Millisecond-1)/time.Millisecond)
	suffix := strconv.FormatUint(rand.Uint64(), 36)
	res, err := allowScript.Run(ctx, r.c, []string{r.base + key}, int64(us), limit, suffix, int64(ms)).Int64Slice()
	if err != nil {
		return false, 0, fmt.Errorf("checking rate limit of %q: %w", key, err)
	}
	if len(res) != 2 {
		return false, 0, fmt.Errorf("checking rate limit of %q: unexpected reply %v", key, res)
	}
	if res[0] == 1 {
		return true, 0, nil
	}
	return false, time.Duration(res[1]) * time.Microsecond, nil
}
