package config

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Limits and defaults that other packages need to know.
const (
	// DefaultTelegramAPIURL is Telegram's cloud Bot API server.
	DefaultTelegramAPIURL = "https://api.telegram.org"
	// CloudUploadLimit is the largest file the cloud Bot API accepts from a bot.
	CloudUploadLimit int64 = 50_000_000
	// LocalUploadLimit is the largest file a local telegram-bot-api server accepts.
	LocalUploadLimit int64 = 2000 << 20
	// MinLeechSplitSize is the smallest LEECH_SPLIT_SIZE; smaller parts would flood the chat.
	MinLeechSplitSize int64 = 1 << 20
	// MinStatusInterval is the shortest STATUS_INTERVAL; Telegram throttles faster edits.
	MinStatusInterval = 3 * time.Second
	// DefaultConfigFile is the dotenv file FromEnvironment reads.
	DefaultConfigFile = "config.env"
	// MinHealthInterval is the shortest HEALTH_INTERVAL; probing the Bot API faster is abuse.
	MinHealthInterval = 10 * time.Second
	// MinTaskRetention is the shortest TASK_RETENTION; /status and resume notices read
	// finished records for a short while after the end.
	MinTaskRetention = time.Minute
)

// Config is the validated configuration of one node. Load returns it read-only: callers share
// the pointer and must not modify it or its slices.
type Config struct {
	BotToken         string        // BOT_TOKEN: the bot's token; never log it.
	OwnerID          int64         // OWNER_ID: the owner's user id, positive.
	SudoUsers        []int64       // SUDO_USERS: user ids with admin rights.
	AuthorizedChats  []int64       // AUTHORIZED_CHATS: chat or user ids allowed to use the bot.
	TelegramAPIURL   string        // TELEGRAM_API_URL: Bot API base URL without a trailing slash.
	TelegramLocal    bool          // TELEGRAM_LOCAL: the Bot API server runs in --local mode.
	DownloadDir      string        // DOWNLOAD_DIR: absolute working directory for tasks.
	StateDir         string        // STATE_DIR: absolute directory of the embedded store.
	MirrorDest       string        // MIRROR_DEST: "" or an absolute directory.
	LeechSplitSize   int64         // LEECH_SPLIT_SIZE: bytes per leeched part.
	StatusInterval   time.Duration // STATUS_INTERVAL: status message refresh period.
	HTTPAddr         string        // HTTP_ADDR: host:port of the HTTP endpoints.
	APIToken         string        // API_TOKEN: bearer token for /api and /debug; never log it.
	RedisURL         string        // REDIS_URL: redis:// or rediss:// URL, or "" for a lone node.
	NodeName         string        // NODE_NAME: this node's name.
	ClusterAddr      string        // CLUSTER_ADDR: host:port this node listens on for peers.
	ClusterAdvertise string        // CLUSTER_ADVERTISE: host:port peers dial.
	// ClusterMemberTTL (CLUSTER_MEMBER_TTL) is how long a silent member stays listed.
	ClusterMemberTTL time.Duration
	// PollerLeaseTTL (POLLER_LEASE_TTL) is how long the Telegram poller lease outlives its holder.
	PollerLeaseTTL time.Duration
	// ClusterSweepInterval (CLUSTER_SWEEP_INTERVAL) is how often a node looks for tasks whose owner is gone.
	ClusterSweepInterval time.Duration
	AllowPrivateURLs     bool          // ALLOW_PRIVATE_URLS: allow links to private addresses.
	HTTPConnections      int           // HTTP_CONNECTIONS: connections per HTTP download.
	RetryMaxAttempts     int           // RETRY_MAX_ATTEMPTS: attempts per stage.
	RetryInitialDelay    time.Duration // RETRY_INITIAL_DELAY: first retry delay.
	RetryMaxDelay        time.Duration // RETRY_MAX_DELAY: longest retry delay.
	RetryMaxElapsed      time.Duration // RETRY_MAX_ELAPSED: give up on a stage after this long.
	// MaxConcurrentDownloads (MAX_CONCURRENT_DOWNLOADS) is the number of downloads a node runs
	// at once; 0 means unlimited.
	MaxConcurrentDownloads int
	// MaxConcurrentUploads (MAX_CONCURRENT_UPLOADS) is the number of uploads a node runs at
	// once; 0 means unlimited.
	MaxConcurrentUploads int
	MaxTaskSize          int64         // MAX_TASK_SIZE: largest accepted download in bytes; 0 = no limit.
	UserTaskLimit        int           // USER_TASK_LIMIT: unfinished tasks per user; 0 = no limit.
	UserRateLimit        int           // USER_RATE_LIMIT: commands per user per minute; 0 = no limit.
	MinFreeDisk          int64         // MIN_FREE_DISK: free-space floor of DOWNLOAD_DIR in bytes; 0 = off.
	MaxExtractSize       int64         // MAX_EXTRACT_SIZE: bytes one extraction may write; 0 = free disk only.
	TorrentPort          int           // TORRENT_PORT: BitTorrent listen port; 0 = any free port.
	TorrentDHT           bool          // TORRENT_DHT: use the DHT.
	TorrentTrackers      bool          // TORRENT_TRACKERS: announce to trackers.
	TorrentPEX           bool          // TORRENT_PEX: peer exchange.
	TorrentDownloadLimit int64         // TORRENT_DOWNLOAD_LIMIT: node-wide bytes/s; 0 = unlimited.
	TorrentUploadLimit   int64         // TORRENT_UPLOAD_LIMIT: node-wide bytes/s; 0 = unlimited.
	TorrentSeedRatio     float64       // TORRENT_SEED_RATIO: default seed ratio; 0 = none.
	TorrentSeedTime      time.Duration // TORRENT_SEED_TIME: default seed time; 0 = none.
	TorrentStallTimeout  time.Duration // TORRENT_STALL_TIMEOUT: fail a torrent without data for this long.
	CleanupSchedule      string        // CLEANUP_SCHEDULE: cron spec of the maintenance run.
	TaskRetention        time.Duration // TASK_RETENTION: finished task records older than this are pruned.
	HealthInterval       time.Duration // HEALTH_INTERVAL: period of the health checks.
	ShutdownTimeout      time.Duration // SHUTDOWN_TIMEOUT: grace period on stop.
	LogLevel             slog.Level    // LOG_LEVEL: minimum log level.
	LogFormat            string        // LOG_FORMAT: "text" or "json".
}

// FieldError is one configuration problem. Var names the variable, or FILE:LINE for a
// malformed dotenv line; Msg is safe to print (it never holds a secret).
type FieldError struct {
	Var string
	Msg string
}

// Error returns "VAR: message".
func (e *FieldError) Error() string { return e.Var + ": " + e.Msg }

// tokenPattern is telego's own check, so a token that passes here is one telego accepts.
var tokenPattern = regexp.MustCompile(`^\d+:[\w-]{35}$`)

// nodeNamePattern keeps node names usable as metric label values and in actor ids.
var nodeNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$`)

// FromEnvironment loads the configuration of this process: Load(os.Environ(), "config.env").
func FromEnvironment() (*Config, error) {
	return Load(os.Environ(), DefaultConfigFile)
}

// Load builds a Config from environ (KEY=VALUE strings, as from os.Environ) layered over the
// dotenv file at configFile ("" for none; a missing file is fine). The file is read first and a
// non-empty environment value wins. Every problem is reported at once: the error is errors.Join
// of one *FieldError per problem, and the Config is nil whenever the error is not.
func Load(environ []string, configFile string) (*Config, error) {
	l, errs := newLoader(environ, configFile, os.Hostname)
	cfg := l.build()
	errs = append(errs, l.errs...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

// loader holds one Load's raw settings, the names it has read (for the test that ties Load to
// Variables) and the problems found so far.
type loader struct {
	vals     map[string]setting
	read     map[string]bool
	errs     []error
	hostname func() (string, error)
}

// newLoader reads the dotenv file and overlays environ. The errors it returns concern the file.
func newLoader(environ []string, configFile string, hostname func() (string, error)) (*loader, []error) {
	l := &loader{vals: map[string]setting{}, read: map[string]bool{}, hostname: hostname}
	var errs []error
	if configFile != "" {
		data, err := os.ReadFile(configFile)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case err != nil:
			errs = append(errs, &FieldError{Var: configFile, Msg: fmt.Sprintf("reading config file: %v", err)})
		default:
			vals, fileErrs := parseDotenv(configFile, string(data))
			l.vals, errs = vals, fileErrs
		}
	}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if _, known := lookupVariable(k); !known {
			continue
		}
		if v = strings.TrimSpace(v); v != "" {
			l.vals[k] = setting{value: v}
		}
	}
	return l, errs
}

// get returns the value of name and whether it is set (non-empty).
func (l *loader) get(name string) (string, bool) {
	l.read[name] = true
	s := l.vals[name]
	return s.value, s.value != ""
}

// fail records a problem with name's value, pointing at its dotenv line when it came from there.
func (l *loader) fail(name, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if origin := l.vals[name].origin; origin != "" {
		msg += " (set in " + origin + ")"
	}
	l.errs = append(l.errs, &FieldError{Var: name, Msg: msg})
}

// build decodes and checks every variable, then the rules that span several.
func (l *loader) build() *Config {
	c := &Config{}
	c.BotToken = l.botToken()
	c.OwnerID = l.ownerID()
	c.SudoUsers = l.ids("SUDO_USERS", false)
	c.AuthorizedChats = l.ids("AUTHORIZED_CHATS", true)
	c.TelegramAPIURL = l.apiURL()
	cloud := strings.EqualFold(c.TelegramAPIURL, DefaultTelegramAPIURL)
	c.TelegramLocal = l.boolean("TELEGRAM_LOCAL", !cloud)
	if c.TelegramLocal && cloud {
		l.fail("TELEGRAM_LOCAL", "cannot be true with the cloud Bot API (%s); point TELEGRAM_API_URL at a local telegram-bot-api server", DefaultTelegramAPIURL)
	}
	c.DownloadDir = l.dir("DOWNLOAD_DIR", "./downloads")
	c.StateDir = l.dir("STATE_DIR", "./data")
	if c.DownloadDir != "" && c.StateDir != "" && within(c.StateDir, c.DownloadDir) {
		l.fail("STATE_DIR", "must not be DOWNLOAD_DIR or lie inside it, because the download directory is cleaned up")
	}
	c.MirrorDest = l.mirrorDest(c.DownloadDir)
	c.LeechSplitSize = l.splitSize(c.TelegramLocal)
	c.StatusInterval = l.duration("STATUS_INTERVAL", 10*time.Second, MinStatusInterval)
	c.HTTPAddr = l.hostPort("HTTP_ADDR", "127.0.0.1:8080")
	c.APIToken = l.apiToken()
	c.RedisURL = l.redisURL()
	c.NodeName = l.nodeName()
	c.ClusterAddr = l.hostPort("CLUSTER_ADDR", "127.0.0.1:0")
	c.ClusterAdvertise = l.hostPort("CLUSTER_ADVERTISE", c.ClusterAddr)
	if _, set := l.get("CLUSTER_ADVERTISE"); !set && c.RedisURL != "" {
		// A node listening on every address (a container) is reached at
		// its host name, which the cluster network resolves to it.
		if host, port, err := net.SplitHostPort(c.ClusterAddr); err == nil && unspecifiedHost(host) {
			if name, err := l.hostname(); err == nil && name != "" {
				c.ClusterAdvertise = net.JoinHostPort(name, port)
			}
		}
	}
	if c.RedisURL != "" && c.ClusterAdvertise != "" {
		if host, _, err := net.SplitHostPort(c.ClusterAdvertise); err == nil && unspecifiedHost(host) {
			l.fail("CLUSTER_ADVERTISE", "%q cannot be dialled by other nodes; set a reachable host (required when REDIS_URL is set)", c.ClusterAdvertise)
		}
	}
	c.ClusterMemberTTL = l.duration("CLUSTER_MEMBER_TTL", 6*time.Second, time.Second)
	c.PollerLeaseTTL = l.duration("POLLER_LEASE_TTL", 10*time.Second, time.Second)
	c.ClusterSweepInterval = l.duration("CLUSTER_SWEEP_INTERVAL", 5*time.Second, 100*time.Millisecond)
	c.AllowPrivateURLs = l.boolean("ALLOW_PRIVATE_URLS", false)
	c.HTTPConnections = l.intRange("HTTP_CONNECTIONS", 8, 1, 32)
	c.RetryMaxAttempts = l.intRange("RETRY_MAX_ATTEMPTS", 5, 1, 100)
	c.RetryInitialDelay = l.duration("RETRY_INITIAL_DELAY", time.Second, time.Millisecond)
	c.RetryMaxDelay = l.duration("RETRY_MAX_DELAY", time.Minute, time.Millisecond)
	c.RetryMaxElapsed = l.duration("RETRY_MAX_ELAPSED", 15*time.Minute, time.Millisecond)
	if c.RetryMaxDelay < c.RetryInitialDelay {
		l.fail("RETRY_MAX_DELAY", "%s is shorter than RETRY_INITIAL_DELAY (%s)", c.RetryMaxDelay, c.RetryInitialDelay)
	}
	if c.RetryMaxElapsed < c.RetryMaxDelay {
		l.fail("RETRY_MAX_ELAPSED", "%s is shorter than RETRY_MAX_DELAY (%s)", c.RetryMaxElapsed, c.RetryMaxDelay)
	}
	c.MaxConcurrentDownloads = l.count("MAX_CONCURRENT_DOWNLOADS", 3)
	c.MaxConcurrentUploads = l.count("MAX_CONCURRENT_UPLOADS", 2)
	c.MaxTaskSize = l.size("MAX_TASK_SIZE")
	c.UserTaskLimit = l.count("USER_TASK_LIMIT", 0)
	c.UserRateLimit = l.count("USER_RATE_LIMIT", 0)
	c.MinFreeDisk = l.size("MIN_FREE_DISK")
	c.MaxExtractSize = l.size("MAX_EXTRACT_SIZE")
	c.TorrentPort = l.intRange("TORRENT_PORT", 6881, 0, 65535)
	c.TorrentDHT = l.boolean("TORRENT_DHT", true)
	c.TorrentTrackers = l.boolean("TORRENT_TRACKERS", true)
	c.TorrentPEX = l.boolean("TORRENT_PEX", true)
	c.TorrentDownloadLimit = l.size("TORRENT_DOWNLOAD_LIMIT")
	c.TorrentUploadLimit = l.size("TORRENT_UPLOAD_LIMIT")
	c.TorrentSeedRatio = l.ratio("TORRENT_SEED_RATIO")
	c.TorrentSeedTime = l.duration("TORRENT_SEED_TIME", 0, 0)
	c.TorrentStallTimeout = l.duration("TORRENT_STALL_TIMEOUT", 10*time.Minute, time.Second)
	c.CleanupSchedule = l.schedule("CLEANUP_SCHEDULE", "@daily")
	c.TaskRetention = l.duration("TASK_RETENTION", 7*24*time.Hour, MinTaskRetention)
	c.HealthInterval = l.duration("HEALTH_INTERVAL", 5*time.Minute, MinHealthInterval)
	c.ShutdownTimeout = l.duration("SHUTDOWN_TIMEOUT", 15*time.Second, time.Millisecond)
	c.LogLevel = l.logLevel()
	c.LogFormat = l.oneOf("LOG_FORMAT", "text", "text", "json")
	return c
}

func (l *loader) botToken() string {
	v, ok := l.get("BOT_TOKEN")
	switch {
	case !ok:
		l.fail("BOT_TOKEN", "required: the token @BotFather gave the bot")
	case !tokenPattern.MatchString(v):
		// The value is a secret even when malformed: say what is wrong, never what it is.
		l.fail("BOT_TOKEN", "malformed: want the form 123456789:AAE... (a numeric bot id, a colon and 35 letters, digits, '_' or '-')")
	}
	return v
}

func (l *loader) ownerID() int64 {
	v, ok := l.get("OWNER_ID")
	if !ok {
		l.fail("OWNER_ID", "required: the owner's numeric Telegram user id")
		return 0
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		l.fail("OWNER_ID", "%q is not a positive user id", v)
		return 0
	}
	return id
}

// ids parses a space- or comma-separated list of ids; user ids are positive, chat ids may be
// negative (groups) but never zero.
func (l *loader) ids(name string, allowNegative bool) []int64 {
	v, ok := l.get(name)
	if !ok {
		return nil
	}
	var (
		out []int64
		bad []string
	)
	for _, f := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil || id == 0 || (!allowNegative && id < 0) {
			bad = append(bad, strconv.Quote(f))
			continue
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	if len(bad) > 0 {
		what := "positive user ids"
		if allowNegative {
			what = "non-zero chat or user ids"
		}
		l.fail(name, "%s: want %s separated by spaces or commas", strings.Join(bad, ", "), what)
	}
	return out
}

func (l *loader) apiURL() string {
	const name = "TELEGRAM_API_URL"
	v, ok := l.get(name)
	if !ok {
		return DefaultTelegramAPIURL
	}
	u, err := url.Parse(v)
	switch {
	case err != nil:
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error repeats the whole URL; the variable is named already.
		}
		l.fail(name, "not a URL: %v", err)
	case u.Scheme != "http" && u.Scheme != "https":
		l.fail(name, "%q: want an http:// or https:// URL", v)
	case u.Host == "" || u.Hostname() == "":
		l.fail(name, "%q: the URL has no host", v)
	case u.User != nil:
		l.fail(name, "must not contain credentials")
	case u.RawQuery != "" || u.Fragment != "":
		l.fail(name, "%q: want a base URL without query or fragment", v)
	default:
		return strings.TrimRight(v, "/")
	}
	return DefaultTelegramAPIURL
}

// boolean accepts the usual spellings, because deployment tools write them differently.
func (l *loader) boolean(name string, def bool) bool {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	switch strings.ToLower(v) {
	case "1", "t", "true", "yes", "y", "on":
		return true
	case "0", "f", "false", "no", "n", "off":
		return false
	}
	l.fail(name, "%q: want true or false", v)
	return def
}

func (l *loader) dir(name, def string) string {
	v, ok := l.get(name)
	if !ok {
		v = def
	}
	abs, err := filepath.Abs(v)
	if err != nil {
		l.fail(name, "making %q absolute: %v", v, err)
		return ""
	}
	return abs
}

// within reports whether path is dir or lies inside it; both are absolute and clean.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func (l *loader) mirrorDest(downloadDir string) string {
	const name = "MIRROR_DEST"
	v, ok := l.get(name)
	if !ok {
		return ""
	}
	if strings.HasPrefix(v, "rclone:") {
		// No upload stage writes to rclone remotes yet: accepting one would
		// start a node on which every /mirror fails.
		l.fail(name, "%q: rclone destinations are not supported yet; set a directory path", v)
		return ""
	}
	if strings.Contains(v, "://") {
		l.fail(name, "%q: want a directory path", v)
		return ""
	}
	abs := l.dir(name, v)
	if abs != "" && downloadDir != "" && within(abs, downloadDir) {
		l.fail(name, "must not be DOWNLOAD_DIR or lie inside it, because the download directory is cleaned up")
	}
	return abs
}

func (l *loader) splitSize(local bool) int64 {
	const name = "LEECH_SPLIT_SIZE"
	limit, api := CloudUploadLimit, "the cloud Bot API"
	if local {
		limit, api = LocalUploadLimit, "a local Bot API server"
	}
	v, ok := l.get(name)
	if !ok {
		return limit
	}
	n, err := ParseSize(v)
	switch {
	case err != nil:
		l.fail(name, "%v", err)
	case n < MinLeechSplitSize:
		l.fail(name, "%d bytes is below the minimum of %d (1MiB)", n, MinLeechSplitSize)
	case n > limit && !local:
		l.fail(name, "%d bytes is above %s's upload limit of %d bytes; use a local telegram-bot-api server (TELEGRAM_API_URL) for up to %d", n, api, limit, LocalUploadLimit)
	case n > limit:
		l.fail(name, "%d bytes is above %s's upload limit of %d bytes (2000MiB)", n, api, limit)
	default:
		return n
	}
	return limit
}

// duration accepts Go durations (1m30s) or plain seconds (90), because the Python bots' users
// write seconds.
func (l *loader) duration(name string, def, minimum time.Duration) time.Duration {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs > int64((1<<63-1)/time.Second) {
			l.fail(name, "%q is too long", v)
			return def
		}
		d = time.Duration(secs) * time.Second
	} else if d, err = time.ParseDuration(v); err != nil {
		l.fail(name, "%q: want a duration such as 10s, 1m30s or a number of seconds", v)
		return def
	}
	if d < minimum {
		l.fail(name, "%s is below the minimum of %s", d, minimum)
		return def
	}
	return d
}

func (l *loader) intRange(name string, def, lo, hi int) int {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		l.fail(name, "%q: want a whole number from %d to %d", v, lo, hi)
		return def
	}
	return n
}

// count reads a limit: a whole number, 0 or more, where 0 conventionally means "no limit".
func (l *loader) count(name string, def int) int {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		l.fail(name, "%q: want a whole number, 0 or more (0 means no limit)", v)
		return def
	}
	return n
}

// ratio reads an optional seed ratio: a decimal number from 0 to 1000, where 0 is off.
func (l *loader) ratio(name string) float64 {
	v, ok := l.get(name)
	if !ok {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1000 || f != f {
		l.fail(name, "%q: want a number from 0 to 1000, such as 1.5 (0 means no seeding by ratio)", v)
		return 0
	}
	return f
}

// size reads an optional byte size whose default, 0, means "off".
func (l *loader) size(name string) int64 {
	v, ok := l.get(name)
	if !ok {
		return 0
	}
	n, err := ParseSize(v)
	if err != nil {
		l.fail(name, "%v", err)
		return 0
	}
	return n
}

// schedule checks a cron spec with robfig/cron's standard parser, the one the cron actor
// uses: five fields (minute hour day-of-month month day-of-week), an optional CRON_TZ= prefix,
// or a descriptor such as @daily or @every 6h. A spec that parses but never fires (the 30th
// of February) is refused too, because it would silently disable the maintenance.
func (l *loader) schedule(name, def string) string {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	sched, err := cron.ParseStandard(v)
	if err != nil {
		l.fail(name, "%q: want a cron spec such as \"0 3 * * *\" or a descriptor such as @daily or @every 6h: %v", v, err)
		return def
	}
	if every, isEvery := sched.(cron.ConstantDelaySchedule); isEvery && every.Delay < time.Minute {
		l.fail(name, "%q runs more often than once a minute", v)
		return def
	}
	if sched.Next(time.Now()).IsZero() {
		l.fail(name, "%q never fires", v)
		return def
	}
	return v
}

// hostPort checks a listen or dial address; the host may be empty (all interfaces) and the
// port 0 (any free port).
func (l *loader) hostPort(name, def string) string {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		l.fail(name, "%q: want host:port", v)
		return def
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || strconv.FormatUint(p, 10) != port {
		l.fail(name, "%q: the port must be a number from 0 to 65535", v)
		return def
	}
	if strings.ContainsAny(host, " /") {
		l.fail(name, "%q: the host is not a host name or IP address", v)
		return def
	}
	return v
}

// unspecifiedHost reports whether host means "every interface", which no peer can dial.
func unspecifiedHost(host string) bool {
	if host == "" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsUnspecified()
}

func (l *loader) apiToken() string {
	v, ok := l.get("API_TOKEN")
	if ok && len(v) < 16 {
		l.fail("API_TOKEN", "too short: use at least 16 characters (for example: openssl rand -hex 24)")
	}
	return v
}

func (l *loader) redisURL() string {
	const name = "REDIS_URL"
	v, ok := l.get(name)
	if !ok {
		return ""
	}
	// The URL may carry a password, so no message below quotes it or url.Parse's error.
	u, err := url.Parse(v)
	switch {
	case err != nil:
		l.fail(name, "not a valid URL")
	case u.Scheme != "redis" && u.Scheme != "rediss":
		l.fail(name, "want a redis:// or rediss:// URL")
	case u.Hostname() == "":
		l.fail(name, "the URL has no host")
	default:
		return v
	}
	return ""
}

func (l *loader) nodeName() string {
	const name = "NODE_NAME"
	v, ok := l.get(name)
	if !ok {
		h, err := l.hostname()
		if err != nil {
			l.fail(name, "not set and the host name is unknown (%v)", err)
			return ""
		}
		v = h
	}
	if !nodeNamePattern.MatchString(v) {
		l.fail(name, "%q: want 1 to 63 letters, digits, '.', '_' or '-', starting with a letter or digit", v)
		return ""
	}
	return v
}

func (l *loader) logLevel() slog.Level {
	switch v := l.oneOf("LOG_LEVEL", "info", "debug", "info", "warn", "error"); v {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// oneOf returns the lower-cased value of name if it is one of allowed, else def.
func (l *loader) oneOf(name, def string, allowed ...string) string {
	v, ok := l.get(name)
	if !ok {
		return def
	}
	if lv := strings.ToLower(v); slices.Contains(allowed, lv) {
		return lv
	}
	l.fail(name, "%q: want one of %s", v, strings.Join(allowed, ", "))
	return def
}

// IsAdmin reports whether userID is the owner or a sudo user.
func (c *Config) IsAdmin(userID int64) bool {
	return userID > 0 && (userID == c.OwnerID || slices.Contains(c.SudoUsers, userID))
}

// APIAuthRequired reports whether /api and /debug must demand API_TOKEN: whenever HTTP_ADDR
// listens on anything but a loopback address.
func (c *Config) APIAuthRequired() bool {
	host, _, err := net.SplitHostPort(c.HTTPAddr)
	if err != nil {
		return true
	}
	if strings.EqualFold(host, "localhost") {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// redactedMark replaces a secret that is set.
const redactedMark = "[redacted]"

// Redacted returns every variable's effective value as text for a startup log line. Secrets
// are masked: BOT_TOKEN and API_TOKEN become "[redacted]" when set, and REDIS_URL keeps
// everything but its password.
func (c *Config) Redacted() map[string]string {
	secret := func(s string) string {
		if s == "" {
			return ""
		}
		return redactedMark
	}
	redis := ""
	if c.RedisURL != "" {
		redis = redactedMark
		if u, err := url.Parse(c.RedisURL); err == nil {
			redis = u.Redacted()
		}
	}
	return map[string]string{
		"BOT_TOKEN":                secret(c.BotToken),
		"OWNER_ID":                 strconv.FormatInt(c.OwnerID, 10),
		"SUDO_USERS":               joinIDs(c.SudoUsers),
		"AUTHORIZED_CHATS":         joinIDs(c.AuthorizedChats),
		"TELEGRAM_API_URL":         c.TelegramAPIURL,
		"TELEGRAM_LOCAL":           strconv.FormatBool(c.TelegramLocal),
		"DOWNLOAD_DIR":             c.DownloadDir,
		"STATE_DIR":                c.StateDir,
		"MIRROR_DEST":              c.MirrorDest,
		"LEECH_SPLIT_SIZE":         strconv.FormatInt(c.LeechSplitSize, 10),
		"STATUS_INTERVAL":          c.StatusInterval.String(),
		"HTTP_ADDR":                c.HTTPAddr,
		"API_TOKEN":                secret(c.APIToken),
		"REDIS_URL":                redis,
		"NODE_NAME":                c.NodeName,
		"CLUSTER_ADDR":             c.ClusterAddr,
		"CLUSTER_ADVERTISE":        c.ClusterAdvertise,
		"CLUSTER_MEMBER_TTL":       c.ClusterMemberTTL.String(),
		"POLLER_LEASE_TTL":         c.PollerLeaseTTL.String(),
		"CLUSTER_SWEEP_INTERVAL":   c.ClusterSweepInterval.String(),
		"ALLOW_PRIVATE_URLS":       strconv.FormatBool(c.AllowPrivateURLs),
		"HTTP_CONNECTIONS":         strconv.Itoa(c.HTTPConnections),
		"RETRY_MAX_ATTEMPTS":       strconv.Itoa(c.RetryMaxAttempts),
		"RETRY_INITIAL_DELAY":      c.RetryInitialDelay.String(),
		"RETRY_MAX_DELAY":          c.RetryMaxDelay.String(),
		"RETRY_MAX_ELAPSED":        c.RetryMaxElapsed.String(),
		"MAX_CONCURRENT_DOWNLOADS": strconv.Itoa(c.MaxConcurrentDownloads),
		"MAX_CONCURRENT_UPLOADS":   strconv.Itoa(c.MaxConcurrentUploads),
		"MAX_TASK_SIZE":            strconv.FormatInt(c.MaxTaskSize, 10),
		"USER_TASK_LIMIT":          strconv.Itoa(c.UserTaskLimit),
		"USER_RATE_LIMIT":          strconv.Itoa(c.UserRateLimit),
		"MIN_FREE_DISK":            strconv.FormatInt(c.MinFreeDisk, 10),
		"MAX_EXTRACT_SIZE":         strconv.FormatInt(c.MaxExtractSize, 10),
		"TORRENT_PORT":             strconv.Itoa(c.TorrentPort),
		"TORRENT_DHT":              strconv.FormatBool(c.TorrentDHT),
		"TORRENT_TRACKERS":         strconv.FormatBool(c.TorrentTrackers),
		"TORRENT_PEX":              strconv.FormatBool(c.TorrentPEX),
		"TORRENT_DOWNLOAD_LIMIT":   strconv.FormatInt(c.TorrentDownloadLimit, 10),
		"TORRENT_UPLOAD_LIMIT":     strconv.FormatInt(c.TorrentUploadLimit, 10),
		"TORRENT_SEED_RATIO":       strconv.FormatFloat(c.TorrentSeedRatio, 'g', -1, 64),
		"TORRENT_SEED_TIME":        c.TorrentSeedTime.String(),
		"TORRENT_STALL_TIMEOUT":    c.TorrentStallTimeout.String(),
		"CLEANUP_SCHEDULE":         c.CleanupSchedule,
		"TASK_RETENTION":           c.TaskRetention.String(),
		"HEALTH_INTERVAL":          c.HealthInterval.String(),
		"SHUTDOWN_TIMEOUT":         c.ShutdownTimeout.String(),
		"LOG_LEVEL":                strings.ToLower(c.LogLevel.String()),
		"LOG_FORMAT":               c.LogFormat,
	}
}

func joinIDs(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}
