package check

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/mirrorleech/mirrorleech/monitoring"
	"github.com/mirrorleech/mirrorleech/tests/harness"
	"github.com/mirrorleech/mirrorleech/tests/tgfake"
)

// The files under test, relative to the repository root.
const (
	promConfig      = "monitoring/prometheus.yml"
	alertRules      = "monitoring/alerts.yml"
	alertTests      = "monitoring/alerts_test.yml"
	dashboardFile   = "monitoring/grafana/dashboards/mirrorleech.json"
	datasourceFile  = "monitoring/grafana/provisioning/datasources/prometheus.yml"
	dashProviderCfg = "monitoring/grafana/provisioning/dashboards/mirrorleech.yml"
)

// The datasource uid the provisioning file defines and every panel uses.
const datasourceUID = "prometheus"

// repoRoot is the repository root; tests run in monitoring/check.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	require.NoError(t, err, "the repository root holds go.mod")
	return root
}

func readFile(t *testing.T, root, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, rel))
	require.NoError(t, err)
	return string(b)
}

// promtool finds promtool, installing Debian's prometheus package when it is
// missing and the test may do so.
func promtool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("promtool"); err == nil {
		return p
	}
	if testing.Short() {
		t.Skip("promtool is not installed, and -short does not install packages (apt-get install prometheus)")
	}
	if os.Geteuid() != 0 {
		t.Skip("promtool is not installed, and installing Debian's prometheus package needs root")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("promtool is not installed, and there is no apt-get to install Debian's prometheus package")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for _, args := range [][]string{{"update"}, {"install", "-y", "--no-install-recommends", "prometheus"}} {
		cmd := exec.CommandContext(ctx, "apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Skipf("promtool is not installed and apt-get %s failed: %v\n%s", args[0], err, tail(out))
		}
	}
	// The package starts a Prometheus server where systemd runs; the test
	// wanted promtool only, so it stops the service it caused to start.
	if _, err := os.Stat("/run/systemd/system"); err == nil {
		if out, err := exec.CommandContext(ctx, "systemctl", "stop", "prometheus").CombinedOutput(); err != nil {
			t.Logf("stopping the prometheus service the package started: %v\n%s", err, out)
		}
	}
	p, err := exec.LookPath("promtool")
	require.NoError(t, err, "the prometheus package was installed but promtool is not on PATH")
	return p
}

// tail keeps the end of a long command output.
func tail(b []byte) string {
	const max = 2000
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return string(b)
}

func TestPromtool(t *testing.T) {
	root := repoRoot(t)
	bin := promtool(t)

	// The dashboard's queries are checked by Prometheus' own parser: each
	// becomes a recording rule, with Grafana's variables given values.
	dashRules := filepath.Join(t.TempDir(), "dashboard_rules.yml")
	var rules strings.Builder
	rules.WriteString("groups:\n  - name: dashboard\n    rules:\n")
	for i, q := range dashboardQueries(t, loadDashboard(t, root)) {
		expr := strings.NewReplacer("$__rate_interval", "1m", "$__interval", "1m", "$instance", ".*").Replace(q.expr)
		fmt.Fprintf(&rules, "      - record: dashboard:query_%d\n        expr: %s\n", i, strconv.Quote(expr))
	}
	require.NoError(t, os.WriteFile(dashRules, []byte(rules.String()), 0o644))

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"check config", []string{"check", "config", promConfig}, "SUCCESS: 1 rule files found"},
		{"check rules", []string{"check", "rules", alertRules}, "SUCCESS"},
		{"test rules", []string{"test", "rules", alertTests}, "SUCCESS"},
		{"dashboard queries", []string{"check", "rules", dashRules}, "SUCCESS"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, tc.args...)
			cmd.Dir = root
			out, err := cmd.CombinedOutput()
			t.Logf("promtool %s:\n%s", strings.Join(tc.args, " "), out)
			require.NoError(t, err, "promtool %s failed:\n%s", strings.Join(tc.args, " "), out)
			require.Contains(t, string(out), tc.want)
			require.NotContains(t, string(out), "FAILED")
		})
	}
}

func TestDashboardAndRulesUseExportedMetrics(t *testing.T) {
	root := repoRoot(t)
	contract := registeredMetrics(t)

	// Every name the files use, with where it was used.
	used := map[string][]string{}
	add := func(where, expr string) {
		names, err := metricNames(expr)
		require.NoError(t, err, "%s: %q", where, expr)
		require.NotEmpty(t, names, "%s uses no metric: %q", where, expr)
		for _, n := range names {
			used[n] = append(used[n], where)
		}
	}

	t.Run("dashboard", func(t *testing.T) {
		dash := loadDashboard(t, root)
		require.Equal(t, "mirrorleech", dash.UID)
		require.NotEmpty(t, dash.Title)
		require.GreaterOrEqual(t, dash.SchemaVersion, 36, "a schema current Grafana reads without migrating")
		checkPanels(t, dash)
		for _, q := range dashboardQueries(t, dash) {
			add(q.where, q.expr)
		}
		for _, v := range dash.Templating.List {
			if v.Type != "query" {
				continue
			}
			q := templateQuery(t, v.Query)
			m := labelValues.FindStringSubmatch(q)
			require.NotNil(t, m, "variable %s: want label_values(<selector>, <label>), got %q", v.Name, q)
			add("variable "+v.Name, m[1])
			require.Equal(t, datasourceUID, v.Datasource.UID, "variable %s uses the provisioned datasource", v.Name)
		}
	})

	t.Run("provisioning", func(t *testing.T) {
		ds := readFile(t, root, datasourceFile)
		require.Regexp(t, `(?m)^\s+uid:\s*`+datasourceUID+`\s*$`, ds, "the datasource uid the dashboard refers to")
		require.Regexp(t, `(?m)^\s+url:\s*http://prometheus:9090\s*$`, ds)
		require.Regexp(t, `(?m)^\s+type:\s*prometheus\s*$`, ds)
		prov := readFile(t, root, dashProviderCfg)
		require.Regexp(t, `(?m)^\s+type:\s*file\s*$`, prov)
		require.Regexp(t, `(?m)^\s+path:\s*/var/lib/grafana/dashboards\s*$`, prov)
	})

	t.Run("alert rules", func(t *testing.T) {
		text := readFile(t, root, alertRules)
		alerts, exprs := yamlValues(text, "alert"), yamlValues(text, "expr")
		require.NotEmpty(t, alerts)
		require.Len(t, exprs, len(alerts), "every rule is an alert with one expr")
		for i, e := range exprs {
			add("alert "+alerts[i], e)
		}
		for _, want := range []string{"MirrorleechNodeDown", "MirrorleechTasksFailing", "MirrorleechStuckTasks",
			"MirrorleechDiskLow", "MirrorleechFloodWaitsRising", "MirrorleechRestartStorm"} {
			require.Contains(t, alerts, want)
		}
		require.Len(t, yamlValues(text, "severity"), len(alerts), "every alert has a severity")
		require.Len(t, yamlValues(text, "for"), len(alerts), "every alert waits before it fires")
		require.Len(t, yamlValues(text, "summary"), len(alerts), "every alert has a summary")
		require.Len(t, yamlValues(text, "description"), len(alerts), "every alert has a description")

		// Each alert is tested both ways in alerts_test.yml.
		fires, quiet := alertCases(readFile(t, root, alertTests))
		for _, a := range alerts {
			require.Positive(t, fires[a], "alerts_test.yml has no case where %s fires", a)
			require.Positive(t, quiet[a], "alerts_test.yml has no case where %s stays quiet", a)
		}
		for _, s := range yamlValues(readFile(t, root, alertTests), "series") {
			add("alerts_test.yml series", s)
		}
	})

	for name, where := range used {
		_, known := resolve(name, contract)
		switch {
		case known:
		case name == "up", strings.HasPrefix(name, "go_"), strings.HasPrefix(name, "process_"):
			// The standard collectors' names are checked against the live
			// scrape only; up comes from Prometheus itself.
		default:
			t.Errorf("%s is not a metric the nodes export (used by %s)", name, strings.Join(where, ", "))
		}
	}

	t.Run("live scrape", func(t *testing.T) {
		if testing.Short() {
			t.Skip("the live scrape builds and runs the bot binary; skipped under -short")
		}
		live := scrapeLiveNode(t)

		// What a node exports before any task ran must be in the scrape:
		// the gauges, the unlabelled counters, build info and the state
		// gauges NewMetrics initialises.
		for _, n := range initialFamilies(t) {
			require.Contains(t, live, n, "%s is exported from the start", n)
		}
		// The command the test sent and the Bot API calls it caused.
		require.Contains(t, live, "mirrorleech_commands_total")
		require.Contains(t, live, "mirrorleech_telegram_requests_total")

		for name, where := range used {
			if name == "up" {
				continue
			}
			base, _ := resolve(name, contract)
			if _, ok := live[base]; !ok {
				t.Errorf("%s is not in the live scrape (used by %s)", name, strings.Join(where, ", "))
			}
		}
	})
}

// metricKind is what a registered collector exposes.
type metricKind int

const (
	plain metricKind = iota
	histogram
	summary
)

// descName reads the fully qualified name out of a Desc's String form,
// the only public view client_golang gives of a Desc.
var descName = regexp.MustCompile(`fqName: "([^"]+)"`)

// recorder is a Registerer that remembers the names of what is registered.
type recorder struct {
	t     *testing.T
	names map[string]metricKind
}

func (r *recorder) Register(c prometheus.Collector) error {
	kind := plain
	switch c.(type) {
	case *prometheus.HistogramVec, prometheus.Histogram:
		kind = histogram
	case *prometheus.SummaryVec, prometheus.Summary:
		kind = summary
	}
	ch := make(chan *prometheus.Desc, 16)
	go func() { c.Describe(ch); close(ch) }()
	for d := range ch {
		m := descName.FindStringSubmatch(d.String())
		require.NotNil(r.t, m, "a Desc without a name: %s", d)
		r.names[m[1]] = kind
	}
	return nil
}

func (r *recorder) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		require.NoError(r.t, r.Register(c))
	}
}

func (r *recorder) Unregister(prometheus.Collector) bool { return false }

// registeredMetrics returns every mirrorleech_ metric monitoring.NewMetrics
// registers, and checks that MetricNames lists exactly those.
func registeredMetrics(t *testing.T) map[string]metricKind {
	t.Helper()
	rec := &recorder{t: t, names: map[string]metricKind{}}
	_, err := monitoring.NewMetrics(rec, "test")
	require.NoError(t, err)
	registered := make([]string, 0, len(rec.names))
	for n := range rec.names {
		registered = append(registered, n)
	}
	listed := slices.Clone(monitoring.MetricNames())
	sort.Strings(registered)
	sort.Strings(listed)
	require.Equal(t, registered, listed, "MetricNames lists what NewMetrics registers")
	return rec.names
}

// initialFamilies returns the metric families NewMetrics exports before
// anything was observed.
func initialFamilies(t *testing.T) []string {
	t.Helper()
	reg := prometheus.NewRegistry()
	_, err := monitoring.NewMetrics(reg, "test")
	require.NoError(t, err)
	mfs, err := reg.Gather()
	require.NoError(t, err)
	var names []string
	for _, mf := range mfs {
		names = append(names, mf.GetName())
	}
	require.Contains(t, names, "mirrorleech_build_info")
	require.Contains(t, names, "mirrorleech_disk_free_bytes")
	return names
}

// resolve maps a series name to its family: a histogram's _bucket, _sum and
// _count series and a summary's _sum and _count belong to the metric.
func resolve(name string, contract map[string]metricKind) (string, bool) {
	if _, ok := contract[name]; ok {
		return name, true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		base, ok := strings.CutSuffix(name, suffix)
		if !ok {
			continue
		}
		switch contract[base] {
		case histogram:
			return base, true
		case summary:
			if suffix != "_bucket" {
				return base, true
			}
		}
	}
	return name, false
}

// scrapeLiveNode starts the real bot, sends it a command and returns the
// metric families of its /metrics page (name → type).
func scrapeLiveNode(t *testing.T) map[string]string {
	t.Helper()
	bin, cleanup, err := harness.Build()
	require.NoError(t, err)
	t.Cleanup(cleanup)
	tg := tgfake.New(t, tgfake.Options{})
	bot := harness.Start(t, bin, tg)

	tg.PushText(harness.UserID, harness.UserID, "/ping")
	harness.WaitMessage(t, tg, harness.UserID, "Pong", 15*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+bot.HTTP+"/metrics", nil)
	require.NoError(t, err)
	// The text format, whatever the server would prefer.
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	families, err := parseTypes(resp.Body)
	require.NoError(t, err)
	require.Contains(t, families, "go_goroutines", "the Go collector is registered")
	require.Contains(t, families, "process_cpu_seconds_total", "the process collector is registered")
	return families
}

// parseTypes reads the "# TYPE name type" lines of the text exposition
// format; every family has one, samples or not.
func parseTypes(r io.Reader) (map[string]string, error) {
	families := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			families[f[2]] = f[3]
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the scrape: %w", err)
	}
	if len(families) == 0 {
		return nil, errors.New("reading the scrape: no # TYPE lines")
	}
	return families, nil
}

// dashboard is the part of a Grafana dashboard the checks read.
type dashboard struct {
	UID           string  `json:"uid"`
	Title         string  `json:"title"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name       string          `json:"name"`
			Type       string          `json:"type"`
			Datasource datasource      `json:"datasource"`
			Query      json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type panel struct {
	ID         int         `json:"id"`
	Type       string      `json:"type"`
	Title      string      `json:"title"`
	Datasource *datasource `json:"datasource"`
	GridPos    struct {
		H, W, X, Y int
	} `json:"gridPos"`
	Targets []struct {
		RefID      string      `json:"refId"`
		Expr       string      `json:"expr"`
		Datasource *datasource `json:"datasource"`
	} `json:"targets"`
	Panels []panel `json:"panels"` // a collapsed row's panels
}

func loadDashboard(t *testing.T, root string) dashboard {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, dashboardFile))
	require.NoError(t, err)
	require.True(t, json.Valid(b), "%s is not valid JSON", dashboardFile)
	var d dashboard
	require.NoError(t, json.Unmarshal(b, &d))
	return d
}

// allPanels flattens rows: a collapsed row carries its panels inside.
func allPanels(d dashboard) []panel {
	var out []panel
	for _, p := range d.Panels {
		out = append(out, p)
		out = append(out, p.Panels...)
	}
	return out
}

func checkPanels(t *testing.T, d dashboard) {
	t.Helper()
	ids := map[int]string{}
	var rows []string
	graphs := 0
	for _, p := range allPanels(d) {
		require.NotEmpty(t, p.Title, "panel %d has a title", p.ID)
		if prev, dup := ids[p.ID]; dup {
			t.Errorf("panels %q and %q share the id %d", prev, p.Title, p.ID)
		}
		ids[p.ID] = p.Title
		require.Positive(t, p.GridPos.W, "panel %q has a width", p.Title)
		require.Positive(t, p.GridPos.H, "panel %q has a height", p.Title)
		require.LessOrEqual(t, p.GridPos.X+p.GridPos.W, 24, "panel %q fits the 24 columns", p.Title)
		if p.Type == "row" {
			rows = append(rows, p.Title)
			continue
		}
		graphs++
		require.NotNil(t, p.Datasource, "panel %q has a datasource", p.Title)
		require.Equal(t, datasourceUID, p.Datasource.UID, "panel %q uses the provisioned datasource", p.Title)
		require.NotEmpty(t, p.Targets, "panel %q has queries", p.Title)
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			require.NotEmpty(t, strings.TrimSpace(tg.Expr), "panel %q has an empty query", p.Title)
			require.NotEmpty(t, tg.RefID, "panel %q: a query without refId", p.Title)
			require.False(t, refs[tg.RefID], "panel %q: refId %s twice", p.Title, tg.RefID)
			refs[tg.RefID] = true
			if tg.Datasource != nil {
				require.Equal(t, datasourceUID, tg.Datasource.UID, "panel %q query %s", p.Title, tg.RefID)
			}
		}
	}
	for _, want := range []string{"Tasks", "Throughput", "Telegram", "Actors", "Cluster", "Node"} {
		require.Contains(t, rows, want, "the dashboard has a %s row", want)
	}
	require.Greater(t, graphs, len(rows), "rows hold panels")
}

type query struct{ where, expr string }

func dashboardQueries(t *testing.T, d dashboard) []query {
	t.Helper()
	var qs []query
	for _, p := range allPanels(d) {
		for _, tg := range p.Targets {
			qs = append(qs, query{where: fmt.Sprintf("panel %q (%s)", p.Title, tg.RefID), expr: tg.Expr})
		}
	}
	require.NotEmpty(t, qs)
	return qs
}

var labelValues = regexp.MustCompile(`^\s*label_values\((.+),\s*[A-Za-z_][A-Za-z0-9_]*\s*\)\s*$`)

// templateQuery reads a variable's query, a string or (Grafana 10+) an
// object with a query field.
func templateQuery(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var o struct {
		Query string `json:"query"`
	}
	require.NoError(t, json.Unmarshal(raw, &o))
	return o.Query
}

// PromQL words that look like identifiers but never name a metric.
var promqlWords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "by": true, "without": true,
	"on": true, "ignoring": true, "group_left": true, "group_right": true, "inf": true, "nan": true,
	"sum": true, "min": true, "max": true, "avg": true, "group": true, "stddev": true, "stdvar": true,
	"count": true, "count_values": true, "bottomk": true, "topk": true, "quantile": true, "limitk": true,
	"limit_ratio": true, "atan2": true,
}

var (
	promqlStrings  = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	promqlVars     = regexp.MustCompile(`\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*`)
	promqlMatchers = regexp.MustCompile(`\{[^{}]*\}`)
	promqlRanges   = regexp.MustCompile(`\[[^\[\]]*\]`)
	promqlGrouping = regexp.MustCompile(`(?i)\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)`)
	promqlTokens   = regexp.MustCompile(`0[xX][0-9a-fA-F]+|[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?[A-Za-z]*|([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?`)
)

// metricNames returns the metric names a PromQL expression selects. It
// removes what cannot hold a metric name (strings, label matchers, ranges,
// grouping labels, Grafana variables, numbers and durations), then keeps the
// identifiers that are neither functions (followed by a parenthesis) nor
// PromQL keywords.
func metricNames(expr string) ([]string, error) {
	s := promqlStrings.ReplaceAllString(expr, `""`)
	s = promqlVars.ReplaceAllString(s, "1m")
	s = promqlMatchers.ReplaceAllString(s, "{}")
	s = promqlRanges.ReplaceAllString(s, "[]")
	s = promqlGrouping.ReplaceAllString(s, "")
	if strings.Count(s, "{") != strings.Count(s, "}") || strings.Count(s, "[") != strings.Count(s, "]") {
		return nil, fmt.Errorf("unbalanced braces or brackets in %q", expr)
	}
	seen := map[string]bool{}
	var names []string
	for _, m := range promqlTokens.FindAllStringSubmatch(s, -1) {
		id, call := m[1], m[2]
		if id == "" || call != "" || promqlWords[strings.ToLower(id)] || seen[id] {
			continue
		}
		seen[id] = true
		names = append(names, id)
	}
	return names, nil
}

func TestMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`up{job="mirrorleech"} == 0`, []string{"up"}},
		{`sum by (kind) (rate(mirrorleech_tasks_started_total{instance=~"$instance"}[$__rate_interval])) * 60`,
			[]string{"mirrorleech_tasks_started_total"}},
		{`histogram_quantile(0.95, sum by (le, stage) (rate(mirrorleech_stage_duration_seconds_bucket[5m])))`,
			[]string{"mirrorleech_stage_duration_seconds_bucket"}},
		{`sum(a_total) by (job) / on (job) group_left(version) b_info offset 1h`, []string{"a_total", "b_info"}},
		{`label_replace(x > 0, "direction", "$1", "state", "(download|upload)ing") and on (instance) y == 0`,
			[]string{"x", "y"}},
		{`mirrorleech_disk_free_bytes < 5 * 1024^3 or 1e9 > 2`, []string{"mirrorleech_disk_free_bytes"}},
		{`max_over_time(z[1h:5m])`, []string{"z"}},
		{`'{__name__="q"}'`, nil},
	} {
		got, err := metricNames(tc.expr)
		require.NoError(t, err, tc.expr)
		require.Equal(t, tc.want, got, tc.expr)
	}
	_, err := metricNames(`sum(x{a="b"`)
	require.Error(t, err)
}

// yamlValues returns the values of every mapping key named key in a YAML
// document written the way the monitoring files are: plain, quoted or
// block-scalar values, one key per line. It avoids a YAML dependency; the
// count checks around it catch a file it would misread.
func yamlValues(text, key string) []string {
	lines := strings.Split(text, "\n")
	var out []string
	for i := 0; i < len(lines); i++ {
		line := strings.TrimRight(lines[i], " \t\r")
		body := strings.TrimLeft(line, " ")
		body = strings.TrimPrefix(body, "- ")
		rest, ok := strings.CutPrefix(body, key+":")
		if !ok || (rest != "" && rest[0] != ' ') {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " -"))
		v := strings.TrimSpace(rest)
		switch {
		case strings.HasPrefix(v, "|") || strings.HasPrefix(v, ">"):
			var block []string
			for i+1 < len(lines) {
				next := strings.TrimRight(lines[i+1], " \t\r")
				if strings.TrimSpace(next) != "" && len(next)-len(strings.TrimLeft(next, " ")) <= indent {
					break
				}
				block = append(block, strings.TrimSpace(next))
				i++
			}
			v = strings.TrimSpace(strings.Join(block, "\n"))
		case strings.HasPrefix(v, `"`):
			if u, err := strconv.Unquote(v); err == nil {
				v = u
			}
		case strings.HasPrefix(v, "'") && strings.HasSuffix(v, "'") && len(v) >= 2:
			v = strings.ReplaceAll(v[1:len(v)-1], "''", "'")
		}
		out = append(out, v)
	}
	return out
}

var evalItem = regexp.MustCompile(`(?m)^\s*- (?:eval_time|alertname):`)

// alertCases counts, per alert, the alert_rule_test cases of a promtool test
// file that expect it to fire and those that expect no alert.
func alertCases(text string) (fires, quiet map[string]int) {
	fires, quiet = map[string]int{}, map[string]int{}
	starts := evalItem.FindAllStringIndex(text, -1)
	for i, s := range starts {
		end := len(text)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		item := text[s[0]:end]
		names, exp := yamlValues(item, "alertname"), yamlValues(item, "exp_alerts")
		if len(names) != 1 || len(exp) != 1 {
			continue
		}
		switch {
		case exp[0] == "[]":
			quiet[names[0]]++
		case exp[0] == "" && len(yamlValues(item, "exp_labels")) > 0:
			fires[names[0]]++
		}
	}
	return fires, quiet
}
