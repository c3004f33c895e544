// Package cron is the node's maintenance actor. It samples the node's own
// statistics (CPU, memory, disk of DOWNLOAD_DIR) on a fixed period, counts
// the node's tasks by stage from the TaskStageChanged events on the actor
// system's event stream, answers GetNodeStats (chat boards use it for their
// footer) and renders /stats (ShowStats).
//
// Sampling reads /proc and statfs in a worker goroutine, so Receive never
// waits on the filesystem. The event-stream subscription only forwards to the
// actor; the counts are touched only by the actor.
//
// Failure: a failed sample is logged and the previous one is kept.
package cron
