package flood

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Shared enforces the same limits as Limiter across every node of a
// cluster, in Redis: Telegram counts a bot's sends per token, so with
// several nodes each one's own Limiter is not enough (three nodes could
// send 90 messages a second). Each node keeps its Limiter as a first
// filter and reserves every send here before making it.
//
// Reserve is one Lua script: it reads the server's clock (node clocks do
// not matter), and either records the send in the chat, group and global
// windows and returns 0, or records nothing and returns how long to wait.
// Safe for concurrent use.
type Shared struct {
	client redis.UniversalClient
	prefix string
	node   string
	cfg    Config
}

// NewShared returns a cluster-wide limiter with keys under
// <prefix>:{flood}: (one hash slot). node makes window entries unique.
func NewShared(client redis.UniversalClient, prefix, node string, c Config) *Shared {
	if prefix == "" {
		prefix = "mirrorleech"
	}
	return &Shared{client: client, prefix: prefix + ":{flood}:", node: node, cfg: c.withDefaults()}
}

var reserveScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local perChat, groupLimit, globalLimit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local member = ARGV[4]
local wait = 0
if perChat > 0 then
  local last = tonumber(redis.call('GET', KEYS[1]) or '')
  if last then
    local w = last + perChat - now
    if w > wait then wait = w end
  end
end
local function window(key, limit, span)
  if limit <= 0 then return 0 end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - span)
  if redis.call('ZCARD', key) < limit then return 0 end
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return tonumber(oldest[2]) + span - now
end
local w = window(KEYS[2], groupLimit, 60000)
if w > wait then wait = w end
w = window(KEYS[3], globalLimit, 1000)
if w > wait then wait = w end
if wait > 0 then return wait end
if perChat > 0 then redis.call('SET', KEYS[1], now, 'PX', perChat) end
if groupLimit > 0 then
  redis.call('ZADD', KEYS[2], now, member)
  redis.call('PEXPIRE', KEYS[2], 60000)
end
if globalLimit > 0 then
  redis.call('ZADD', KEYS[3], now, member)
  redis.call('PEXPIRE', KEYS[3], 1000)
end
return 0
`)

// Reserve records one send to chatID when every window allows it now and
// returns 0; otherwise it records nothing and returns how long to wait
// before asking again.
func (s *Shared) Reserve(ctx context.Context, chatID int64) (time.Duration, error) {
	group := 0
	if isGroup(chatID) && s.cfg.GroupPerMinute > 0 {
		group = s.cfg.GroupPerMinute
	}
	per := int64(0)
	if s.cfg.PerChat > 0 {
		per = s.cfg.PerChat.Milliseconds()
	}
	global := max(s.cfg.GlobalPerSecond, 0)
	chat := strconv.FormatInt(chatID, 10)
	keys := []string{s.prefix + "c:" + chat, s.prefix + "g:" + chat, s.prefix + "all"}
	ms, err := reserveScript.Run(ctx, s.client, keys, per, group, global, s.member()).Int64()
	if err != nil {
		return 0, fmt.Errorf("reserving a send to chat %d: %w", chatID, err)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// Wait blocks until a send to chatID is reserved or ctx ends. A Redis
// error ends the wait at once with that error: the caller sends anyway,
// held back by its own node's Limiter, rather than go silent.
func (s *Shared) Wait(ctx context.Context, chatID int64) error {
	for {
		w, err := s.Reserve(ctx, chatID)
		if err != nil || w <= 0 {
			return err
		}
		t := time.NewTimer(w)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

func (s *Shared) member() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return s.node + "-" + hex.EncodeToString(b[:])
}
