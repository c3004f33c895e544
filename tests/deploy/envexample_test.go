package deploy

import (
	"flag"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/mirrorleech/mirrorleech/internal/config"
)

var update = flag.Bool("update", false, "rewrite the generated part of .env.example")

const (
	envExample = "../../.env.example"
	composeYML = "../../docker-compose.yml"
	botMark    = "# ---- the bot"
)

// composeFile is the part of docker-compose.yml these tests read.
type composeFile struct {
	Services map[string]struct {
		Image       string            `yaml:"image"`
		Environment map[string]string `yaml:"environment"`
	} `yaml:"services"`
}

func readCompose(t *testing.T) (string, composeFile) {
	t.Helper()
	b, err := os.ReadFile(composeYML)
	require.NoError(t, err)
	var c composeFile
	require.NoError(t, yaml.Unmarshal(b, &c))
	return string(b), c
}

// botSection renders the bot's settings from config.Variables: required
// ones as empty assignments, the rest commented out at their defaults, and
// the ones docker-compose.yml or the image fix marked as such.
func botSection(managed, defaults map[string]string) string {
	var b strings.Builder
	b.WriteString(botMark + " (generated from internal/config: go test ./tests/deploy -run EnvExample -update) ----\n")
	b.WriteString("# Durations take Go syntax (1m30s) or plain seconds; sizes 2GiB, 500MB or\n")
	b.WriteString("# bytes; booleans true/false. README.md \"Configuration\" has the same table.\n")
	for _, v := range config.Variables {
		b.WriteString("\n# " + v.Help + "\n")
		if why, ok := managed[v.Name]; ok {
			b.WriteString("# " + why + "\n")
			continue
		}
		if def, ok := defaults[v.Name]; ok {
			b.WriteString("# Default in docker-compose.yml: " + def + ".\n#" + v.Name + "=\n")
			continue
		}
		if v.Default == "required" {
			b.WriteString(v.Name + "=\n")
			continue
		}
		b.WriteString("# Default: " + v.Default + ".\n#" + v.Name + "=\n")
	}
	return b.String()
}

// managedVars returns the bot settings docker-compose.yml's node service
// sets itself (they win over .env) or that must stay at the image's value,
// and those it reads from .env with a default of its own (${NAME:-value}).
func managedVars(c composeFile) (managed, defaults map[string]string) {
	managed = map[string]string{
		"DOWNLOAD_DIR": "Fixed by the image: /downloads, a volume per replica.",
		"STATE_DIR":    "Fixed by the image: /data (unused with Redis).",
	}
	defaults = map[string]string{}
	for name, value := range c.Services["node"].Environment {
		if def, ok := strings.CutPrefix(value, "${"+name+":-"); ok {
			defaults[name] = strings.TrimSuffix(def, "}")
			continue
		}
		managed[name] = "Set by docker-compose.yml for every replica: " + name + "=" + value + "."
	}
	return managed, defaults
}

// .env.example documents every setting: the compose variables that
// docker-compose.yml reads and the bot's own (generated, -update rewrites
// them), with nothing unknown and no secret filled in.
func TestEnvExampleIsCurrent(t *testing.T) {
	text, c := readCompose(t)
	b, err := os.ReadFile(envExample)
	require.NoError(t, err)
	s := string(b)
	i := strings.Index(s, botMark)
	require.True(t, i >= 0, ".env.example lacks the %q line", botMark)
	want := s[:i] + botSection(managedVars(c))
	if *update {
		require.NoError(t, os.WriteFile(envExample, []byte(want), 0o644))
		return
	}
	require.Equal(t, want, s, ".env.example is stale: go test ./tests/deploy -run EnvExample -update")

	// Every ${VAR} of docker-compose.yml is documented in the hand-written
	// head, and the head names no variable the compose file does not read.
	head := s[:i]
	var used []string
	for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]+)`).FindAllStringSubmatch(text, -1) {
		if !slices.Contains(used, m[1]) && !isConfigVar(m[1]) {
			used = append(used, m[1])
		}
	}
	documented := regexp.MustCompile(`(?m)^#?([A-Z][A-Z0-9_]+)=`).FindAllStringSubmatch(head, -1)
	var names []string
	for _, m := range documented {
		names = append(names, m[1])
	}
	slices.Sort(used)
	slices.Sort(names)
	require.Equal(t, used, names, "the compose variables in .env.example's head are the ones docker-compose.yml reads")

	// No value is filled in for a secret: the file is committed.
	for _, v := range config.Variables {
		if v.Secret {
			require.Regexp(t, "(?m)^#?"+v.Name+"=$", s, "%s has no value in .env.example", v.Name)
		}
	}
	require.Regexp(t, `(?m)^#?REDIS_PASSWORD=$`, s)
	require.Regexp(t, `(?m)^#?GRAFANA_ADMIN_PASSWORD=$`, s)
}

func isConfigVar(name string) bool {
	return slices.ContainsFunc(config.Variables, func(v config.Variable) bool { return v.Name == name })
}
