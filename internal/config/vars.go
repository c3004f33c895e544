package config

import (
	"strings"
)

// Variable documents one configuration variable. The table [Variables] is the single source
// for the README, the bot's help and the dotenv typo guard.
type Variable struct {
	// Name is the environment variable, for example BOT_TOKEN.
	Name string
	// Default is a human-readable default ("required", "empty", "10s", ...).
	Default string
	// Help says what the variable does, in one sentence.
	Help string
	// Secret marks a value that is never logged or echoed in an error.
	Secret bool
}

// Variables lists every variable Load reads, in the order of the README table. It is constant
// data: callers must not modify it.
var Variables = []Variable{
	{Name: "BOT_TOKEN", Default: "required", Help: "The bot's token from @BotFather.", Secret: true},
	{Name: "OWNER_ID", Default: "required", Help: "Telegram user id of the owner, who has all rights."},
	{Name: "SUDO_USERS", Default: "empty", Help: "User ids with admin rights, separated by spaces or commas."},
	{Name: "AUTHORIZED_CHATS", Default: "empty", Help: "Chat or user ids allowed to use the bot, separated by spaces or commas (group ids are negative)."},
	{Name: "TELEGRAM_API_URL", Default: DefaultTelegramAPIURL, Help: "Bot API server; point it at a local telegram-bot-api server for 2000 MiB uploads."},
	{Name: "TELEGRAM_LOCAL", Default: "true when TELEGRAM_API_URL is not the cloud API", Help: "Whether the Bot API server runs in --local mode (large uploads, local file paths)."},
	{Name: "DOWNLOAD_DIR", Default: "./downloads", Help: "Working space for tasks; made absolute."},
	{Name: "STATE_DIR", Default: "./data", Help: "Embedded store when there is no Redis; made absolute; must not lie inside DOWNLOAD_DIR."},
	{Name: "MIRROR_DEST", Default: "empty", Help: "Mirror destination: a directory path (rclone remotes are not supported yet)."},
	{Name: "LEECH_SPLIT_SIZE", Default: "50000000 on the cloud API, 2000MiB on a local one", Help: "Leeched files above this size are split into parts; sizes like 2GiB, 500MB or plain bytes, at least 1MiB and at most the API's upload limit."},
	{Name: "STATUS_INTERVAL", Default: "10s", Help: "How often a chat's status message is refreshed; at least 3s."},
	{Name: "HTTP_ADDR", Default: "127.0.0.1:8080", Help: "host:port of the health, metrics, API and debug endpoints."},
	{Name: "API_TOKEN", Default: "empty", Help: "Bearer token that /api and /debug demand whenever HTTP_ADDR is not a loopback address; at least 16 characters.", Secret: true},
	{Name: "REDIS_URL", Default: "empty", Help: "redis:// or rediss:// URL; set it to form a cluster."},
	{Name: "NODE_NAME", Default: "host name", Help: "This node's name in status, metrics and the actor tree (letters, digits, '.', '_', '-')."},
	{Name: "CLUSTER_ADDR", Default: "127.0.0.1:0", Help: "host:port where this node listens for other nodes."},
	{Name: "CLUSTER_ADVERTISE", Default: "CLUSTER_ADDR", Help: "host:port other nodes use to reach this one; with REDIS_URL and a CLUSTER_ADDR on every address (0.0.0.0:PORT), the host name and that port."},
	{Name: "CLUSTER_MEMBER_TTL", Default: "6s", Help: "With REDIS_URL: a node that stops refreshing its registration is dropped from the cluster after this long; at least 1s."},
	{Name: "POLLER_LEASE_TTL", Default: "10s", Help: "With REDIS_URL: how long the Telegram polling lease outlives a node that stopped renewing it; another node polls after it; at least 1s."},
	{Name: "CLUSTER_SWEEP_INTERVAL", Default: "5s", Help: "With REDIS_URL: how often a node looks for unfinished tasks whose node left, to run them again; at least 100ms."},
	{Name: "ALLOW_PRIVATE_URLS", Default: "false", Help: "Allow links, trackers and torrent peers on loopback, private and link-local addresses."},
	{Name: "HTTP_CONNECTIONS", Default: "8", Help: "Parallel connections per HTTP download, 1 to 32."},
	{Name: "RETRY_MAX_ATTEMPTS", Default: "5", Help: "Attempts per task stage before the task fails, 1 to 100."},
	{Name: "RETRY_INITIAL_DELAY", Default: "1s", Help: "Delay before the first retry of a failed stage; grows exponentially."},
	{Name: "RETRY_MAX_DELAY", Default: "1m", Help: "Longest delay between two retries; at least RETRY_INITIAL_DELAY."},
	{Name: "RETRY_MAX_ELAPSED", Default: "15m", Help: "A stage that keeps failing for this long fails its task; at least RETRY_MAX_DELAY."},
	{Name: "MAX_CONCURRENT_DOWNLOADS", Default: "3", Help: "Downloads a node runs at once; more tasks wait in the queue; 0 means unlimited."},
	{Name: "MAX_CONCURRENT_UPLOADS", Default: "2", Help: "Uploads a node runs at once; more tasks wait in the queue; 0 means unlimited."},
	{Name: "MAX_TASK_SIZE", Default: "0 (no limit)", Help: "Largest download the bot accepts, and the most an extraction (-e) may write, as a size such as 4GiB; owner and sudo are exempt."},
	{Name: "USER_TASK_LIMIT", Default: "0 (no limit)", Help: "Unfinished tasks one user may have at once; the owner and sudo users are exempt."},
	{Name: "USER_RATE_LIMIT", Default: "0 (no limit)", Help: "Commands one user may send per minute; the owner and sudo users are exempt."},
	{Name: "MIN_FREE_DISK", Default: "0 (off)", Help: "Free space DOWNLOAD_DIR must keep, as a size such as 5GiB; a task that would cross it waits in the queue."},
	{Name: "MAX_EXTRACT_SIZE", Default: "0 (free disk only)", Help: "Most bytes one -e extraction may write, as a size such as 20GiB; never more than the free space of DOWNLOAD_DIR."},
	{Name: "TORRENT_PORT", Default: "6881", Help: "TCP port for BitTorrent peers, on all interfaces; 0 picks a free one."},
	{Name: "TORRENT_DHT", Default: "true", Help: "Find torrent peers through the DHT."},
	{Name: "TORRENT_TRACKERS", Default: "true", Help: "Announce to the trackers named by torrents and magnets."},
	{Name: "TORRENT_PEX", Default: "true", Help: "Exchange peer lists with connected peers."},
	{Name: "TORRENT_DOWNLOAD_LIMIT", Default: "0 (unlimited)", Help: "Torrent download rate of the whole node per second, as a size such as 20MiB."},
	{Name: "TORRENT_UPLOAD_LIMIT", Default: "0 (unlimited)", Help: "Torrent upload rate of the whole node per second, as a size such as 5MiB."},
	{Name: "TORRENT_SEED_RATIO", Default: "0 (no seeding)", Help: "After a torrent completes, seed until it uploaded this many times its size (-d overrides per task)."},
	{Name: "TORRENT_SEED_TIME", Default: "0 (no seeding)", Help: "After a torrent completes, seed at most this long, such as 30m (-d overrides per task)."},
	{Name: "TORRENT_STALL_TIMEOUT", Default: "10m", Help: "A torrent that receives no metadata or data for this long fails; at least 1s."},
	{Name: "CLEANUP_SCHEDULE", Default: "@daily", Help: "When maintenance removes orphaned data from DOWNLOAD_DIR and prunes old task records: cron syntax such as 0 3 * * *, or @daily, @every 6h; at most once a minute."},
	{Name: "TASK_RETENTION", Default: "168h (7 days)", Help: "Finished task records older than this are pruned; at least 1m."},
	{Name: "HEALTH_INTERVAL", Default: "5m", Help: "How often the store, the free disk and the Bot API are checked; a problem and its end are reported to the owner once (once for the whole cluster with REDIS_URL); at least 10s."},
	{Name: "SHUTDOWN_TIMEOUT", Default: "15s", Help: "How long a stopping node waits for work to checkpoint."},
	{Name: "LOG_LEVEL", Default: "info", Help: "debug, info, warn or error."},
	{Name: "LOG_FORMAT", Default: "text", Help: "text or json."},
}

// lookupVariable returns the entry of [Variables] called name.
func lookupVariable(name string) (Variable, bool) {
	for _, v := range Variables {
		if v.Name == name {
			return v, true
		}
	}
	return Variable{}, false
}

// MarkdownTable renders [Variables] as the Markdown table used in the README, followed by a
// note on the value syntax that every variable shares.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| variable | default | meaning |\n|---|---|---|\n")
	for _, v := range Variables {
		b.WriteString("| `" + v.Name + "` | " + escapeCell(v.Default) + " | " + escapeCell(v.Help) + " |\n")
	}
	b.WriteString("\nDurations take Go syntax (`1m30s`) or plain seconds; booleans take true/false, 1/0, " +
		"yes/no or on/off; an empty value counts as unset.\n")
	return b.String()
}

// escapeCell keeps a table cell on one row: a pipe would start a new column.
func escapeCell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}

// suggest returns the known variable closest to an unknown name, or "" when none is close
// enough to be a plausible typo.
func suggest(name string) string {
	best, bestDist := "", 3 // more than two edits is not a typo
	for _, v := range Variables {
		if d := editDistance(strings.ToUpper(name), v.Name); d < bestDist {
			best, bestDist = v.Name, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between two ASCII strings.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
