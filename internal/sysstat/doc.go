// Package sysstat samples the statistics of this node for /stats and the
// status footer: process uptime, CPU and memory, host memory and load, and
// the free space of the download directory. It is Linux-only (it reads /proc
// and calls statfs(2) and sysinfo(2)), like the deployment target.
//
// It owns one thing: the previous /proc/stat sample, which a Sampler keeps so
// that CPUPercent is the host's busy share since the previous call (since boot
// on the first call). It receives a directory and the process start time, and
// emits Stats values. A Sampler belongs to one goroutine or actor; it is not
// safe for concurrent use. DiskFree is a stateless helper.
//
// Sample is best effort: each source is read independently, and when some
// fail it returns every field it could fill together with the failures
// joined with errors.Join; a missing directory fails only the disk fields.
package sysstat
