package lease

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the cluster lease: every node of a cluster shares one Redis.
//
// Keys (one hash tag, {lease}, so the scripts work on Redis Cluster):
//
//	<prefix>:{lease}:<name>         "<holder>/<fence>", PX ttl
//	<prefix>:{lease}:<name>:fence   INCR counter of acquisitions
//	<prefix>:{lease}:<name>:offset  last committed offset (decimal)
//
// The fence counter and the offset have no TTL. If Redis loses its data (a
// restart without persistence, a failover to a blank replica) the offset
// restarts from 0, which is harmless for getUpdates (Telegram itself
// remembers which updates an offset confirmed), and the fence counter
// restarts from the server clock, so fences still grow.
type Redis struct {
	c         redis.UniversalClient
	key       string
	fenceKey  string
	offsetKey string
	holder    string
	ttl       time.Duration
}

var _ Lease = (*Redis)(nil)

// DefaultTTL is the lease TTL used when a zero or negative one is given.
const DefaultTTL = 10 * time.Second

// NewRedis returns the lease <name> under prefix ("" means "mirrorleech"),
// acquired as holder, expiring ttl after the last acquisition or renewal.
// holder should be unique per process (the node name), since a token is
// recognised by its value "<holder>/<fence>". The client is not closed by
// the lease.
func NewRedis(client redis.UniversalClient, prefix, name, holder string, ttl time.Duration) *Redis {
	if prefix == "" {
		prefix = "mirrorleech"
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	key := prefix + ":{lease}:" + name
	return &Redis{
		c:         client,
		key:       key,
		fenceKey:  key + ":fence",
		offsetKey: key + ":offset",
		holder:    holder,
		ttl:       ttl,
	}
}

// TTL is the lease's PX. Hold uses it to bound its own TTL.
func (r *Redis) TTL() time.Duration { return r.ttl }

func (r *Redis) px() int64 { return max(1, r.ttl.Milliseconds()) }

// acquireScript is SET NX PX with the fence taken in the same step, so a
// failed attempt does not consume a fence number and the stored value
// always carries the fence it was acquired with.
//
// A missing counter (first use, or a Redis that lost its data) starts at
// the server's clock in milliseconds rather than 0, so fences keep growing
// across a data loss and a token of the lost data cannot be issued again:
// that would take more than one acquisition per millisecond on average.
var acquireScript = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
if redis.call('EXISTS', KEYS[1]) == 1 then
  return false
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  local t = redis.call('TIME')
  redis.call('SET', KEYS[2], t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000)))
end
local f = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], ARGV[1] .. '/' .. f, 'NX', 'PX', ARGV[2])
return f
`)

// renewScript extends the lease only if it still holds tok's value.
var renewScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`)

// releaseScript deletes the lease only if it still holds tok's value, so a
// late Release never frees another holder's lease.
var releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`)

// commitScript is the fenced write: -1 when tok does not hold the lease,
// 0 when the offset is not larger than the stored one, 1 when stored.
// Offsets are compared as Lua numbers (doubles), exact below 2^53, far above
// Telegram update ids.
var commitScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return -1
end
local cur = redis.call('GET', KEYS[2])
if cur and tonumber(cur) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('SET', KEYS[2], ARGV[2])
return 1
`)

// TryAcquire takes the lease if no one holds it.
func (r *Redis) TryAcquire(ctx context.Context) (Token, bool, error) {
	f, err := acquireScript.Run(ctx, r.c, []string{r.key, r.fenceKey}, r.holder, r.px()).Int64()
	if errors.Is(err, redis.Nil) {
		return Token{}, false, nil
	}
	if err != nil {
		return Token{}, false, fmt.Errorf("acquiring lease %s: %w", r.key, err)
	}
	return Token{Fence: f, Value: tokenValue(r.holder, f)}, true, nil
}

// Renew extends tok's holding by the TTL; ErrLost when tok no longer holds
// the lease.
func (r *Redis) Renew(ctx context.Context, tok Token) error {
	n, err := renewScript.Run(ctx, r.c, []string{r.key}, tok.Value, r.px()).Int64()
	if err != nil {
		return fmt.Errorf("renewing lease %s: %w", r.key, err)
	}
	if n == 0 {
		return ErrLost
	}
	return nil
}

// Release frees the lease if tok still holds it.
func (r *Redis) Release(ctx context.Context, tok Token) error {
	if err := releaseScript.Run(ctx, r.c, []string{r.key}, tok.Value).Err(); err != nil {
		return fmt.Errorf("releasing lease %s: %w", r.key, err)
	}
	return nil
}

// Offset is the last committed offset, 0 when never committed.
func (r *Redis) Offset(ctx context.Context) (int64, error) {
	s, err := r.c.Get(ctx, r.offsetKey).Result()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading offset %s: %w", r.offsetKey, err)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("reading offset %s: %w", r.offsetKey, err)
	}
	return n, nil
}

// CommitOffset stores offset if tok holds the lease (ErrLost otherwise) and
// offset is larger than the stored one.
func (r *Redis) CommitOffset(ctx context.Context, tok Token, offset int64) error {
	if offset < 0 {
		return fmt.Errorf("%w %d", errNegativeOffset, offset)
	}
	n, err := commitScript.Run(ctx, r.c, []string{r.key, r.offsetKey}, tok.Value, offset).Int64()
	if err != nil {
		return fmt.Errorf("committing offset %s: %w", r.offsetKey, err)
	}
	if n < 0 {
		return ErrLost
	}
	return nil
}

// Holder is the holder name of the current holding, "" when free.
func (r *Redis) Holder(ctx context.Context) (string, error) {
	v, err := r.c.Get(ctx, r.key).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading lease %s: %w", r.key, err)
	}
	return holderOf(v), nil
}
