package config

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// testToken has telego's shape: digits, a colon, 35 word characters or dashes.
const testToken = "123456789:AAEhBOweik6ad9r_QvbT7z-Xk3NcLqW2xYz"

// baseEnv is the smallest valid environment plus unrelated variables that Load must ignore.
func baseEnv(extra ...string) []string {
	return append([]string{"BOT_TOKEN=" + testToken, "OWNER_ID=42", "PATH=/usr/bin", "HOME=/root", "NOT_OURS"}, extra...)
}

// fieldErrors flattens the joined error Load returns into its *FieldError values.
func fieldErrors(t *testing.T, err error) []*FieldError {
	t.Helper()
	require.Error(t, err)
	joined, ok := err.(interface{ Unwrap() []error })
	require.True(t, ok, "Load must return errors.Join of field errors, got %T", err)
	var out []*FieldError
	for _, e := range joined.Unwrap() {
		var fe *FieldError
		require.True(t, errors.As(e, &fe), "not a *FieldError: %v", e)
		out = append(out, fe)
	}
	return out
}

// withOverrides drops the entries of env whose key an override sets, so that an empty override
// really unsets a variable (an empty value would otherwise leave the earlier one in force).
func withOverrides(env []string, overrides ...string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		if !slices.ContainsFunc(overrides, func(o string) bool { return strings.HasPrefix(o, k+"=") }) {
			out = append(out, kv)
		}
	}
	return append(out, overrides...)
}

func errorVars(t *testing.T, err error) []string {
	t.Helper()
	var vars []string
	for _, fe := range fieldErrors(t, err) {
		vars = append(vars, fe.Var)
	}
	sort.Strings(vars)
	return vars
}

func TestTestTokenHasTelegosShape(t *testing.T) {
	require.Regexp(t, `^\d+:[\w-]{35}$`, testToken)
}

func TestLoadDefaults(t *testing.T) {
	l, errs := newLoader(baseEnv(), "", func() (string, error) { return "node-a", nil })
	require.Empty(t, errs)
	c := l.build()
	require.Empty(t, l.errs)
	wd, err := os.Getwd()
	require.NoError(t, err)

	require.Equal(t, &Config{
		BotToken:         testToken,
		OwnerID:          42,
		TelegramAPIURL:   "https://api.telegram.org",
		TelegramLocal:    false,
		DownloadDir:      filepath.Join(wd, "downloads"),
		StateDir:         filepath.Join(wd, "data"),
		LeechSplitSize:   50_000_000,
		StatusInterval:   10 * time.Second,
		HTTPAddr:         "127.0.0.1:8080",
		NodeName:         "node-a",
		ClusterAddr:      "127.0.0.1:0",
		ClusterAdvertise: "127.0.0.1:0",
		ClusterMemberTTL: 6 * time.Second, PollerLeaseTTL: 10 * time.Second, ClusterSweepInterval: 5 * time.Second,
		HTTPConnections:   8,
		RetryMaxAttempts:  5,
		RetryInitialDelay: time.Second,
		RetryMaxDelay:     time.Minute,
		RetryMaxElapsed:   15 * time.Minute,
		// The limits of issue 3: queues on by default, everything else off.
		MaxConcurrentDownloads: 3,
		MaxConcurrentUploads:   2,
		TorrentPort:            6881,
		TorrentDHT:             true,
		TorrentTrackers:        true,
		TorrentPEX:             true,
		TorrentStallTimeout:    10 * time.Minute,
		CleanupSchedule:        "@daily",
		TaskRetention:          168 * time.Hour,
		HealthInterval:         5 * time.Minute,
		ShutdownTimeout:        15 * time.Second,
		LogLevel:               slog.LevelInfo,
		LogFormat:              "text",
	}, c)
}

func TestLoadUsesHostName(t *testing.T) {
	host, err := os.Hostname()
	if err != nil || !nodeNamePattern.MatchString(host) {
		t.Skipf("this machine's host name %q (err %v) is not a valid node name", host, err)
	}
	c, err := Load(baseEnv(), "")
	require.NoError(t, err)
	require.Equal(t, host, c.NodeName)
}

func TestLoadGood(t *testing.T) {
	tmp := t.TempDir()
	tests := []struct {
		name  string
		env   []string
		check func(t *testing.T, c *Config)
	}{
		{"sudo users with spaces and commas", []string{"SUDO_USERS=1, 2  3,,4,2"}, func(t *testing.T, c *Config) {
			require.Equal(t, []int64{1, 2, 3, 4}, c.SudoUsers)
		}},
		{"authorized chats may be negative", []string{"AUTHORIZED_CHATS=-1001234567890 77"}, func(t *testing.T, c *Config) {
			require.Equal(t, []int64{-1001234567890, 77}, c.AuthorizedChats)
		}},
		{"local api url implies local mode and its split size", []string{"TELEGRAM_API_URL=http://bot-api:8081/"}, func(t *testing.T, c *Config) {
			require.Equal(t, "http://bot-api:8081", c.TelegramAPIURL)
			require.True(t, c.TelegramLocal)
			require.Equal(t, int64(2000<<20), c.LeechSplitSize)
		}},
		{"custom url can be declared non-local", []string{"TELEGRAM_API_URL=https://proxy.example/tg", "TELEGRAM_LOCAL=no"}, func(t *testing.T, c *Config) {
			require.False(t, c.TelegramLocal)
			require.Equal(t, CloudUploadLimit, c.LeechSplitSize)
		}},
		{"cloud url with trailing slash stays cloud", []string{"TELEGRAM_API_URL=https://api.telegram.org/"}, func(t *testing.T, c *Config) {
			require.Equal(t, DefaultTelegramAPIURL, c.TelegramAPIURL)
			require.False(t, c.TelegramLocal)
		}},
		{"split size in GiB on a local server", []string{"TELEGRAM_API_URL=http://127.0.0.1:8081", "LEECH_SPLIT_SIZE=1.5GiB"}, func(t *testing.T, c *Config) {
			require.Equal(t, int64(1536<<20), c.LeechSplitSize)
		}},
		{"split size in MB on the cloud", []string{"LEECH_SPLIT_SIZE=20mb"}, func(t *testing.T, c *Config) {
			require.Equal(t, int64(20_000_000), c.LeechSplitSize)
		}},
		{"directories are made absolute", []string{"DOWNLOAD_DIR=" + tmp + "/dl/../dl2", "STATE_DIR=rel/state"}, func(t *testing.T, c *Config) {
			require.Equal(t, filepath.Join(tmp, "dl2"), c.DownloadDir)
			require.True(t, filepath.IsAbs(c.StateDir))
			require.True(t, strings.HasSuffix(c.StateDir, filepath.Join("rel", "state")))
		}},
		{"download dir inside state dir is fine", []string{"STATE_DIR=" + tmp, "DOWNLOAD_DIR=" + tmp + "/downloads"}, func(t *testing.T, c *Config) {
			require.Equal(t, tmp, c.StateDir)
		}},
		{"directory mirror destination made absolute", []string{"MIRROR_DEST=" + tmp + "/mirror/"}, func(t *testing.T, c *Config) {
			require.Equal(t, filepath.Join(tmp, "mirror"), c.MirrorDest)
		}},
		{"durations in go syntax and plain seconds", []string{"STATUS_INTERVAL=3", "RETRY_INITIAL_DELAY=250ms", "RETRY_MAX_DELAY=1m30s", "RETRY_MAX_ELAPSED=2h", "SHUTDOWN_TIMEOUT=45"}, func(t *testing.T, c *Config) {
			require.Equal(t, 3*time.Second, c.StatusInterval)
			require.Equal(t, 250*time.Millisecond, c.RetryInitialDelay)
			require.Equal(t, 90*time.Second, c.RetryMaxDelay)
			require.Equal(t, 2*time.Hour, c.RetryMaxElapsed)
			require.Equal(t, 45*time.Second, c.ShutdownTimeout)
		}},
		{"addresses", []string{"HTTP_ADDR=:9090", "CLUSTER_ADDR=0.0.0.0:7000", "CLUSTER_ADVERTISE=[fd00::5]:7000"}, func(t *testing.T, c *Config) {
			require.Equal(t, ":9090", c.HTTPAddr)
			require.Equal(t, "0.0.0.0:7000", c.ClusterAddr)
			require.Equal(t, "[fd00::5]:7000", c.ClusterAdvertise)
		}},
		{"advertise defaults to the host name on every address", []string{"CLUSTER_ADDR=0.0.0.0:7000", "REDIS_URL=redis://r:6379"}, func(t *testing.T, c *Config) {
			require.Equal(t, "vm:7000", c.ClusterAdvertise)
		}},
		{"advertise defaults to cluster addr", []string{"CLUSTER_ADDR=10.0.0.5:7000", "REDIS_URL=redis://:pw@redis:6379/0"}, func(t *testing.T, c *Config) {
			require.Equal(t, "10.0.0.5:7000", c.ClusterAdvertise)
			require.Equal(t, "redis://:pw@redis:6379/0", c.RedisURL)
		}},
		{"rediss", []string{"REDIS_URL=rediss://user:secret@redis.example:6380/2"}, func(t *testing.T, c *Config) {
			require.Equal(t, "rediss://user:secret@redis.example:6380/2", c.RedisURL)
		}},
		{"booleans, ints, logging", []string{"ALLOW_PRIVATE_URLS=ON", "HTTP_CONNECTIONS=32", "RETRY_MAX_ATTEMPTS=1", "LOG_LEVEL=DEBUG", "LOG_FORMAT=Json"}, func(t *testing.T, c *Config) {
			require.True(t, c.AllowPrivateURLs)
			require.Equal(t, 32, c.HTTPConnections)
			require.Equal(t, 1, c.RetryMaxAttempts)
			require.Equal(t, slog.LevelDebug, c.LogLevel)
			require.Equal(t, "json", c.LogFormat)
		}},
		{"warn and error levels", []string{"LOG_LEVEL=warn"}, func(t *testing.T, c *Config) {
			require.Equal(t, slog.LevelWarn, c.LogLevel)
		}},
		{"node name and api token", []string{"NODE_NAME=worker-2.eu", "API_TOKEN=0123456789abcdef"}, func(t *testing.T, c *Config) {
			require.Equal(t, "worker-2.eu", c.NodeName)
			require.Equal(t, "0123456789abcdef", c.APIToken)
		}},
		{"values are trimmed and empty ones are unset", []string{"OWNER_ID= 7 ", "LOG_FORMAT="}, func(t *testing.T, c *Config) {
			require.Equal(t, int64(7), c.OwnerID)
			require.Equal(t, "text", c.LogFormat)
		}},
		{"limits", []string{"MAX_CONCURRENT_DOWNLOADS=0", "MAX_CONCURRENT_UPLOADS=10", "MAX_TASK_SIZE=4GiB",
			"USER_TASK_LIMIT=2", "USER_RATE_LIMIT=20", "MIN_FREE_DISK=500MB"}, func(t *testing.T, c *Config) {
			require.Equal(t, 0, c.MaxConcurrentDownloads)
			require.Equal(t, 10, c.MaxConcurrentUploads)
			require.Equal(t, int64(4<<30), c.MaxTaskSize)
			require.Equal(t, 2, c.UserTaskLimit)
			require.Equal(t, 20, c.UserRateLimit)
			require.Equal(t, int64(500_000_000), c.MinFreeDisk)
		}},
		{"zero sizes mean off", []string{"MAX_TASK_SIZE=0", "MIN_FREE_DISK=0B"}, func(t *testing.T, c *Config) {
			require.Zero(t, c.MaxTaskSize)
			require.Zero(t, c.MinFreeDisk)
		}},
		{"five-field cleanup schedule", []string{"CLEANUP_SCHEDULE=30 3 * * 1-5"}, func(t *testing.T, c *Config) {
			require.Equal(t, "30 3 * * 1-5", c.CleanupSchedule)
		}},
		{"cleanup schedule with a time zone", []string{"CLEANUP_SCHEDULE=CRON_TZ=Europe/Berlin 0 4 * * *"}, func(t *testing.T, c *Config) {
			require.Equal(t, "CRON_TZ=Europe/Berlin 0 4 * * *", c.CleanupSchedule)
		}},
		{"cleanup schedule descriptors", []string{"CLEANUP_SCHEDULE=@every 6h"}, func(t *testing.T, c *Config) {
			require.Equal(t, "@every 6h", c.CleanupSchedule)
		}},
		{"retention and health interval", []string{"TASK_RETENTION=720h", "HEALTH_INTERVAL=10"}, func(t *testing.T, c *Config) {
			require.Equal(t, 30*24*time.Hour, c.TaskRetention)
			require.Equal(t, 10*time.Second, c.HealthInterval)
		}},
		{"the last duplicate in the environment wins", []string{"HTTP_CONNECTIONS=2", "HTTP_CONNECTIONS=3"}, func(t *testing.T, c *Config) {
			require.Equal(t, 3, c.HTTPConnections)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Load(baseEnv(append([]string{"NODE_NAME=n1"}, tt.env...)...), "")
			require.NoError(t, err)
			tt.check(t, c)
		})
	}
}

func TestLoadBad(t *testing.T) {
	tmp := t.TempDir()
	tests := []struct {
		env     []string
		wantVar string
		wantMsg string
	}{
		{[]string{"BOT_TOKEN="}, "BOT_TOKEN", "required"},
		{[]string{"BOT_TOKEN=123:short"}, "BOT_TOKEN", "malformed"},
		{[]string{"BOT_TOKEN=abc:AAEhBOweik6ad9r_QvbT7z-Xk3NcLqW2xYz"}, "BOT_TOKEN", "malformed"},
		{[]string{"OWNER_ID="}, "OWNER_ID", "required"},
		{[]string{"OWNER_ID=-5"}, "OWNER_ID", "positive"},
		{[]string{"OWNER_ID=owner"}, "OWNER_ID", `"owner"`},
		{[]string{"SUDO_USERS=1 x -3"}, "SUDO_USERS", `"x", "-3"`},
		{[]string{"AUTHORIZED_CHATS=-100 0"}, "AUTHORIZED_CHATS", `"0"`},
		{[]string{"TELEGRAM_API_URL=ftp://x"}, "TELEGRAM_API_URL", "http"},
		{[]string{"TELEGRAM_API_URL=http://"}, "TELEGRAM_API_URL", "no host"},
		{[]string{"TELEGRAM_API_URL=http://u:p@h"}, "TELEGRAM_API_URL", "credentials"},
		{[]string{"TELEGRAM_API_URL=http://h/?a=b"}, "TELEGRAM_API_URL", "query"},
		{[]string{"TELEGRAM_API_URL=http://h:port"}, "TELEGRAM_API_URL", "not a URL"},
		{[]string{"TELEGRAM_LOCAL=maybe"}, "TELEGRAM_LOCAL", "true or false"},
		{[]string{"TELEGRAM_LOCAL=true"}, "TELEGRAM_LOCAL", "cloud"},
		{[]string{"STATE_DIR=" + tmp + "/dl/state", "DOWNLOAD_DIR=" + tmp + "/dl"}, "STATE_DIR", "inside"},
		{[]string{"STATE_DIR=" + tmp, "DOWNLOAD_DIR=" + tmp}, "STATE_DIR", "inside"},
		{[]string{"MIRROR_DEST=rclone:gdrive:Media/Mirror"}, "MIRROR_DEST", "rclone destinations are not supported"},
		{[]string{"MIRROR_DEST=rclone:my-remote:"}, "MIRROR_DEST", "rclone destinations are not supported"},
		{[]string{"MIRROR_DEST=rclone:nocolon"}, "MIRROR_DEST", "rclone destinations are not supported"},
		{[]string{"MIRROR_DEST=s3://bucket"}, "MIRROR_DEST", "directory"},
		{[]string{"MIRROR_DEST=" + tmp + "/dl/out", "DOWNLOAD_DIR=" + tmp + "/dl"}, "MIRROR_DEST", "inside"},
		{[]string{"LEECH_SPLIT_SIZE=lots"}, "LEECH_SPLIT_SIZE", "invalid size"},
		{[]string{"LEECH_SPLIT_SIZE=1000"}, "LEECH_SPLIT_SIZE", "minimum"},
		{[]string{"LEECH_SPLIT_SIZE=2GiB"}, "LEECH_SPLIT_SIZE", "local telegram-bot-api"},
		{[]string{"LEECH_SPLIT_SIZE=50000001"}, "LEECH_SPLIT_SIZE", "upload limit"},
		{[]string{"TELEGRAM_API_URL=http://local:8081", "LEECH_SPLIT_SIZE=2001MiB"}, "LEECH_SPLIT_SIZE", "2000MiB"},
		{[]string{"STATUS_INTERVAL=1s"}, "STATUS_INTERVAL", "minimum of 3s"},
		{[]string{"STATUS_INTERVAL=soon"}, "STATUS_INTERVAL", "duration"},
		{[]string{"STATUS_INTERVAL=99999999999999999"}, "STATUS_INTERVAL", "too long"},
		{[]string{"HTTP_ADDR=8080"}, "HTTP_ADDR", "host:port"},
		{[]string{"HTTP_ADDR=localhost:99999"}, "HTTP_ADDR", "port"},
		{[]string{"HTTP_ADDR=localhost:http"}, "HTTP_ADDR", "port"},
		{[]string{"API_TOKEN=short"}, "API_TOKEN", "too short"},
		{[]string{"REDIS_URL=http://redis:6379"}, "REDIS_URL", "redis://"},
		{[]string{"REDIS_URL=redis://"}, "REDIS_URL", "no host"},
		{[]string{"REDIS_URL=redis://a b:%zz@h"}, "REDIS_URL", "not a valid URL"},
		{[]string{"NODE_NAME=has space"}, "NODE_NAME", "letters"},
		{[]string{"NODE_NAME=" + strings.Repeat("a", 64)}, "NODE_NAME", "1 to 63"},
		{[]string{"CLUSTER_ADDR=nope"}, "CLUSTER_ADDR", "host:port"},
		{[]string{"CLUSTER_ADVERTISE=h:-1"}, "CLUSTER_ADVERTISE", "port"},
		{[]string{"CLUSTER_ADVERTISE=:7000", "REDIS_URL=redis://r:6379"}, "CLUSTER_ADVERTISE", "cannot be dialled"},
		{[]string{"ALLOW_PRIVATE_URLS=2"}, "ALLOW_PRIVATE_URLS", "true or false"},
		{[]string{"HTTP_CONNECTIONS=0"}, "HTTP_CONNECTIONS", "1 to 32"},
		{[]string{"HTTP_CONNECTIONS=33"}, "HTTP_CONNECTIONS", "1 to 32"},
		{[]string{"RETRY_MAX_ATTEMPTS=101"}, "RETRY_MAX_ATTEMPTS", "1 to 100"},
		{[]string{"RETRY_INITIAL_DELAY=0"}, "RETRY_INITIAL_DELAY", "minimum"},
		{[]string{"RETRY_INITIAL_DELAY=-1s"}, "RETRY_INITIAL_DELAY", "minimum"},
		{[]string{"RETRY_INITIAL_DELAY=2m"}, "RETRY_MAX_DELAY", "shorter than RETRY_INITIAL_DELAY"},
		{[]string{"RETRY_MAX_ELAPSED=30s"}, "RETRY_MAX_ELAPSED", "shorter than RETRY_MAX_DELAY"},
		{[]string{"MAX_CONCURRENT_DOWNLOADS=-1"}, "MAX_CONCURRENT_DOWNLOADS", "0 or more"},
		{[]string{"MAX_CONCURRENT_UPLOADS=two"}, "MAX_CONCURRENT_UPLOADS", "0 or more"},
		{[]string{"USER_TASK_LIMIT=1.5"}, "USER_TASK_LIMIT", "whole number"},
		{[]string{"USER_RATE_LIMIT=-3"}, "USER_RATE_LIMIT", "0 or more"},
		{[]string{"MAX_TASK_SIZE=big"}, "MAX_TASK_SIZE", "invalid size"},
		{[]string{"MIN_FREE_DISK=-1GB"}, "MIN_FREE_DISK", "negative"},
		{[]string{"CLEANUP_SCHEDULE=daily"}, "CLEANUP_SCHEDULE", "cron spec"},
		{[]string{"CLEANUP_SCHEDULE=0 3 * *"}, "CLEANUP_SCHEDULE", "cron spec"},
		{[]string{"CLEANUP_SCHEDULE=0 0 3 * * *"}, "CLEANUP_SCHEDULE", "cron spec"},
		{[]string{"CLEANUP_SCHEDULE=61 * * * *"}, "CLEANUP_SCHEDULE", "cron spec"},
		{[]string{"CLEANUP_SCHEDULE=@sometimes"}, "CLEANUP_SCHEDULE", "cron spec"},
		{[]string{"CLEANUP_SCHEDULE=@every 10s"}, "CLEANUP_SCHEDULE", "once a minute"},
		{[]string{"CLEANUP_SCHEDULE=0 0 30 2 *"}, "CLEANUP_SCHEDULE", "never fires"},
		{[]string{"TASK_RETENTION=30s"}, "TASK_RETENTION", "minimum of 1m"},
		{[]string{"TASK_RETENTION=a week"}, "TASK_RETENTION", "duration"},
		{[]string{"HEALTH_INTERVAL=5s"}, "HEALTH_INTERVAL", "minimum of 10s"},
		{[]string{"SHUTDOWN_TIMEOUT=forever"}, "SHUTDOWN_TIMEOUT", "duration"},
		{[]string{"LOG_LEVEL=trace"}, "LOG_LEVEL", "debug, info, warn, error"},
		{[]string{"LOG_FORMAT=xml"}, "LOG_FORMAT", "text, json"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.env, " "), func(t *testing.T) {
			c, err := Load(withOverrides(baseEnv("NODE_NAME=n1"), tt.env...), "")
			require.Nil(t, c)
			fes := fieldErrors(t, err)
			require.Len(t, fes, 1, "want exactly one problem, got %v", err)
			require.Equal(t, tt.wantVar, fes[0].Var)
			require.Contains(t, fes[0].Msg, tt.wantMsg)
			require.True(t, strings.HasPrefix(err.Error(), tt.wantVar+": "), err.Error())
		})
	}
}

func TestLoadReportsEveryProblemAtOnce(t *testing.T) {
	_, err := Load([]string{"OWNER_ID=x", "HTTP_CONNECTIONS=0", "LOG_LEVEL=loud", "STATUS_INTERVAL=1", "NODE_NAME=ok",
		"CLEANUP_SCHEDULE=hourly", "USER_TASK_LIMIT=-1", "MIN_FREE_DISK=lots", "HEALTH_INTERVAL=1s"}, "")
	require.Equal(t, []string{"BOT_TOKEN", "CLEANUP_SCHEDULE", "HEALTH_INTERVAL", "HTTP_CONNECTIONS", "LOG_LEVEL",
		"MIN_FREE_DISK", "OWNER_ID", "STATUS_INTERVAL", "USER_TASK_LIMIT"}, errorVars(t, err))
}

func TestSecretsNeverInErrorText(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.env")
	// A malformed line and an unterminated quote that both hold the token.
	require.NoError(t, os.WriteFile(file, []byte("BOT_TOKEN "+testToken+"\nAPI_TOKEN=\""+testToken+"\n"), 0o600))
	secrets := []string{testToken, "AAEhBOweik6ad9r", "hunter2hunter2", "s3cr3t-pass", "shortpw"}

	cases := [][]string{
		{"BOT_TOKEN=" + testToken + "x"},
		{"BOT_TOKEN=" + testToken[:20]},
		{"BOT_TOKEN= " + strings.Replace(testToken, ":", ";", 1)},
		{"BOT_TOKEN=" + testToken, "OWNER_ID=bad", "API_TOKEN=shortpw"},
		{"BOT_TOKEN=" + testToken, "REDIS_URL=http://u:s3cr3t-pass@redis:6379"},
		{"BOT_TOKEN=" + testToken, "REDIS_URL=redis://u:s3cr3t-pass@[::1"},
		{"BOT_TOKEN=" + testToken, "REDIS_URL=redis://u:s3cr3t-pass%zz@h"},
		{"BOT_TOKEN=" + testToken, "API_TOKEN=hunter2hunter2", "HTTP_ADDR=bad"},
	}
	for _, env := range cases {
		for _, cf := range []string{"", file} {
			_, err := Load(append(env, "NODE_NAME=n1"), cf)
			require.Error(t, err)
			for _, s := range secrets {
				require.NotContains(t, err.Error(), s)
			}
		}
	}
}

func TestConfigFileLayering(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "config.env")
	require.NoError(t, os.WriteFile(file, []byte(`# mirrorleech settings
export BOT_TOKEN="`+testToken+`"
OWNER_ID=42
HTTP_CONNECTIONS = 4   # fewer connections
LOG_LEVEL='debug'
NODE_NAME=from-file
STATUS_INTERVAL=20s
`), 0o600))

	t.Run("file alone", func(t *testing.T) {
		c, err := Load(nil, file)
		require.NoError(t, err)
		require.Equal(t, testToken, c.BotToken)
		require.Equal(t, int64(42), c.OwnerID)
		require.Equal(t, 4, c.HTTPConnections)
		require.Equal(t, slog.LevelDebug, c.LogLevel)
		require.Equal(t, "from-file", c.NodeName)
	})
	t.Run("environment wins", func(t *testing.T) {
		c, err := Load([]string{"HTTP_CONNECTIONS=16", "NODE_NAME=from-env", "OWNER_ID=7"}, file)
		require.NoError(t, err)
		require.Equal(t, 16, c.HTTPConnections)
		require.Equal(t, "from-env", c.NodeName)
		require.Equal(t, int64(7), c.OwnerID)
		require.Equal(t, 20*time.Second, c.StatusInterval, "untouched file values remain")
	})
	t.Run("empty environment value does not mask the file", func(t *testing.T) {
		c, err := Load([]string{"NODE_NAME=", "HTTP_CONNECTIONS=  "}, file)
		require.NoError(t, err)
		require.Equal(t, "from-file", c.NodeName)
		require.Equal(t, 4, c.HTTPConnections)
	})
	t.Run("a bad environment value is reported without its file position", func(t *testing.T) {
		_, err := Load([]string{"HTTP_CONNECTIONS=99"}, file)
		require.EqualError(t, err, `HTTP_CONNECTIONS: "99": want a whole number from 1 to 32`)
	})
	t.Run("a bad file value points at its line", func(t *testing.T) {
		bad := filepath.Join(dir, "bad.env")
		require.NoError(t, os.WriteFile(bad, []byte("BOT_TOKEN="+testToken+"\nOWNER_ID=1\n\nHTTP_CONNECTIONS=99\n"), 0o600))
		_, err := Load([]string{"NODE_NAME=n"}, bad)
		require.EqualError(t, err, `HTTP_CONNECTIONS: "99": want a whole number from 1 to 32 (set in `+bad+`:4)`)
	})
	t.Run("missing file is fine", func(t *testing.T) {
		c, err := Load(baseEnv("NODE_NAME=n"), filepath.Join(dir, "absent.env"))
		require.NoError(t, err)
		require.Equal(t, int64(42), c.OwnerID)
	})
	t.Run("unreadable file is an error", func(t *testing.T) {
		_, err := Load(baseEnv("NODE_NAME=n"), dir) // a directory cannot be read as a file
		require.Equal(t, []string{dir}, errorVars(t, err))
		require.ErrorContains(t, err, "reading config file")
	})
	t.Run("file problems and value problems are reported together", func(t *testing.T) {
		bad := filepath.Join(dir, "typo.env")
		require.NoError(t, os.WriteFile(bad, []byte("BOT_TOKN=x\nOWNER_ID=0\n"), 0o600))
		_, err := Load([]string{"NODE_NAME=n"}, bad)
		require.Equal(t, []string{bad + ":1", "BOT_TOKEN", "OWNER_ID"}, errorVars(t, err))
		require.ErrorContains(t, err, "unknown variable BOT_TOKN (did you mean BOT_TOKEN?)")
	})
}

func TestSplitSizeDefaults(t *testing.T) {
	cloud, err := Load(baseEnv("NODE_NAME=n"), "")
	require.NoError(t, err)
	require.Equal(t, int64(50_000_000), cloud.LeechSplitSize)

	local, err := Load(baseEnv("NODE_NAME=n", "TELEGRAM_API_URL=http://127.0.0.1:8081"), "")
	require.NoError(t, err)
	require.Equal(t, int64(2000<<20), local.LeechSplitSize)

	// The limits themselves are accepted: the check is inclusive.
	for _, env := range [][]string{
		{"LEECH_SPLIT_SIZE=50MB"},
		{"TELEGRAM_API_URL=http://127.0.0.1:8081", "LEECH_SPLIT_SIZE=2000MiB"},
		{"LEECH_SPLIT_SIZE=1MiB"},
	} {
		_, err := Load(baseEnv(append(env, "NODE_NAME=n")...), "")
		require.NoError(t, err, env)
	}
}

func TestVariablesMatchLoad(t *testing.T) {
	names := map[string]bool{}
	for _, v := range Variables {
		require.False(t, names[v.Name], "duplicate variable %s", v.Name)
		names[v.Name] = true
		require.NotEmpty(t, v.Default, v.Name)
		require.NotEmpty(t, v.Help, v.Name)
	}

	l, errs := newLoader(baseEnv(), "", func() (string, error) { return "n", nil })
	require.Empty(t, errs)
	c := l.build()
	require.Equal(t, names, l.read, "Load must read exactly the variables in Variables")

	redacted := map[string]bool{}
	for k := range c.Redacted() {
		redacted[k] = true
	}
	require.Equal(t, names, redacted, "Redacted must cover exactly the variables in Variables")
	require.Equal(t, len(Variables), reflect.TypeFor[Config]().NumField(), "one Config field per variable")

	table := MarkdownTable()
	for _, v := range Variables {
		require.Contains(t, table, "| `"+v.Name+"` |")
	}
}

func TestIsAdmin(t *testing.T) {
	c, err := Load(baseEnv("NODE_NAME=n", "SUDO_USERS=100,200"), "")
	require.NoError(t, err)
	for id, want := range map[int64]bool{42: true, 100: true, 200: true, 300: false, 0: false, -100: false} {
		require.Equal(t, want, c.IsAdmin(id), id)
	}
}

func TestAPIAuthRequired(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": false, "[::1]:8080": false, "localhost:8080": false, "127.0.0.2:1": false,
		":8080": true, "0.0.0.0:8080": true, "10.0.0.1:8080": true, "example.com:80": true,
	} {
		require.Equal(t, want, (&Config{HTTPAddr: addr}).APIAuthRequired(), addr)
	}
}

func TestRedacted(t *testing.T) {
	c, err := Load(baseEnv("NODE_NAME=n", "API_TOKEN=0123456789abcdef0123", "REDIS_URL=redis://user:pa55word@redis:6379/0",
		"SUDO_USERS=5 6", "LOG_LEVEL=warn"), "")
	require.NoError(t, err)
	r := c.Redacted()
	require.Equal(t, "[redacted]", r["BOT_TOKEN"])
	require.Equal(t, "[redacted]", r["API_TOKEN"])
	require.Equal(t, "redis://user:xxxxx@redis:6379/0", r["REDIS_URL"])
	require.Equal(t, "5,6", r["SUDO_USERS"])
	require.Equal(t, "warn", r["LOG_LEVEL"])
	require.Equal(t, "10s", r["STATUS_INTERVAL"])
	require.Equal(t, "50000000", r["LEECH_SPLIT_SIZE"])
	require.Equal(t, "@daily", r["CLEANUP_SCHEDULE"])
	require.Equal(t, "168h0m0s", r["TASK_RETENTION"])
	require.Equal(t, "3", r["MAX_CONCURRENT_DOWNLOADS"])
	require.Equal(t, "0", r["MIN_FREE_DISK"])
	for k, v := range r {
		require.NotContains(t, v, testToken, k)
		require.NotContains(t, v, "pa55word", k)
		require.NotContains(t, v, "0123456789abcdef", k)
	}

	unset, err := Load(baseEnv("NODE_NAME=n"), "")
	require.NoError(t, err)
	require.Empty(t, unset.Redacted()["API_TOKEN"], "an unset secret is shown as empty")
	require.Empty(t, unset.Redacted()["REDIS_URL"])
}

func TestFieldErrorText(t *testing.T) {
	require.EqualError(t, &FieldError{Var: "OWNER_ID", Msg: "required"}, "OWNER_ID: required")
}
