// Package check holds no code of its own: its tests guard the monitoring
// files an operator deploys next to the nodes, which Go does not compile and
// which would otherwise only break in production.
//
// It owns nothing at run time. Its tests receive the files under monitoring/
// (prometheus.yml, alerts.yml, alerts_test.yml, the Grafana provisioning
// files and dashboards/mirrorleech.json), the contract of metric names from
// monitoring.MetricNames and monitoring.NewMetrics, and a live /metrics
// scrape of the real binary started with tests/harness. They emit test
// results only:
//
//   - TestPromtool runs `promtool check config`, `promtool check rules` and
//     `promtool test rules` on the files, and `promtool check rules` on the
//     dashboard's queries so that their PromQL is parsed by Prometheus itself.
//     promtool comes from Debian's prometheus package; the test installs it
//     with apt-get when it is missing and the test runs as root.
//   - TestDashboardAndRulesUseExportedMetrics checks that the dashboard is
//     valid and complete and that every metric name in a panel, an alert rule
//     or a rule test is one the nodes export: present in the live scrape, or
//     registered by monitoring.NewMetrics and listed by MetricNames (labelled
//     vectors appear in a scrape only after their first observation).
//
// How it fails: a test fails with the offending file, panel or metric name.
// TestPromtool skips, with the reason, only when promtool is missing and
// cannot be installed (not root, no apt-get, no network, or -short); the
// live scrape is skipped under -short because it builds and runs the binary.
package check
