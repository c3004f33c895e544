// Package sweeper is the node actor that finds tasks nobody runs any more
// and sends them to their users' sessions, so a task survives the loss of
// its node. It runs only in a cluster (with REDIS_URL); a node alone
// resumes its tasks once at start instead (session.ResumeAll).
//
// Every Interval it lists the unfinished tasks of the store, in a worker
// goroutine, and picks those whose owner is not a live member (or that were
// released by a node handing its sessions over). For each such user it
// routes messages.ResumeTasks{Reason: ResumeFailover} to the session grain:
// the cluster activates the session on the member that now owns the user,
// which claims the tasks atomically (store.ClaimTask) and runs them. Every
// node sweeps; a task is claimed once, so duplicate sweeps only cost a
// lookup.
//
// It receives its own ticks and sweep results and emits RouteToGrain to the
// grains router. A store error skips that round (logged); a sweep still
// running when the next tick comes is not doubled.
package sweeper
