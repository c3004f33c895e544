// Package config owns mirrorleech's configuration: it is the only package that reads the
// process environment or the optional dotenv file (config.env), and it turns both into one
// validated, read-only [Config].
//
// # API
//
// [Load] receives the environment as KEY=VALUE strings (as from os.Environ) and the path of a
// dotenv file; [FromEnvironment] is Load(os.Environ(), "config.env"). The file is read first and
// the environment wins, variable by variable. An empty value counts as unset at every layer, so
// an empty variable in the environment (common with docker compose's ${VAR} substitution) never
// masks a value from the file. Defaults are applied to whatever is still unset, then every value
// is decoded strictly and checked, including the rules that span variables (a 2000 MiB split size
// needs a local Bot API server, retry delays must be ordered, and so on).
//
// The limits of a public bot (MAX_CONCURRENT_DOWNLOADS, MAX_CONCURRENT_UPLOADS, MAX_TASK_SIZE,
// USER_TASK_LIMIT, USER_RATE_LIMIT, MIN_FREE_DISK) read 0 as "no limit" or "off". The maintenance
// settings are CLEANUP_SCHEDULE, TASK_RETENTION and HEALTH_INTERVAL. CLEANUP_SCHEDULE is checked
// with github.com/robfig/cron/v3's standard parser, the cron-expression parser the Go ecosystem
// standardised on, so that the value Load accepts is exactly the one the cron actor schedules:
// five fields, an optional CRON_TZ= prefix, or a descriptor such as @daily or @every 6h. A spec
// that never fires, or an @every shorter than a minute, is refused.
//
// [Variables] is the table of every variable with its default and meaning, kept as constant data
// so that the README and the bot's help are generated from one list; a test checks that Load
// reads exactly these variables, and [MarkdownTable] renders it for the README. [ParseSize] is
// the size syntax of LEECH_SPLIT_SIZE, exported so that per-task size flags can share it. [Config.Redacted] renders the configuration for a
// startup log line with every secret masked; [Config.IsAdmin] and [Config.APIAuthRequired] keep
// the two access rules that follow from the configuration in one place.
//
// # Dotenv format
//
// One KEY=VALUE per line; "export KEY=VALUE" is accepted; blank lines and lines starting with #
// are skipped. A value may be wrapped in double quotes (with \" \\ \n \t escapes) or single
// quotes (taken literally); an unquoted value ends at the first # preceded by white space, so a
// URL fragment such as a#b survives. Multi-line values are not supported.
//
// # Failure
//
// Load never stops at the first problem: it returns errors.Join of one *[FieldError] per problem,
// each naming its variable (or file:line for a malformed dotenv line) so that a bad deployment is
// fixed in one round. A dotenv key that is not a known variable is an error (a typo guard); an
// unknown variable in the environment is ignored because the environment carries many unrelated
// variables. Error texts never contain the value of a secret (BOT_TOKEN, API_TOKEN, REDIS_URL),
// nor the text of a malformed dotenv line, which might be one. A missing dotenv file is not an
// error; an unreadable one is.
package config
