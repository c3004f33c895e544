// Package slots is the node's admission control for task stages. One actor
// per node, spawned by main under the name messages.SlotsName, enforces
// MAX_CONCURRENT_DOWNLOADS and MAX_CONCURRENT_UPLOADS (0 = unlimited) and the
// free-disk floor MIN_FREE_DISK (0 = off), so that tasks beyond the limits wait
// in order instead of failing or filling the disk.
//
// # Protocol
//
// Received:
//   - messages.AcquireSlot, sent with ctx.Request (the sender is the holder).
//     Answered with SlotGranted, or SlotQueued with the 1-based position, sent
//     again every time that position changes and followed by SlotGranted when
//     the turn comes, or SlotRefused when the request can never be granted.
//     A repeated AcquireSlot for the same (Kind, TaskID) while it is queued
//     or granted is answered with its current state and changes nothing,
//     except that the latest sender becomes its holder.
//   - messages.ReleaseSlot gives a granted slot back or leaves the queue; for
//     a (Kind, TaskID) the actor does not know it does nothing.
//   - GetSlots (this package), answered with Slots: running, queued and the
//     limit per kind, and for downloads the cached free space and the bytes
//     reserved by running downloads (the upload disk fields are zero).
//
// Every message is accepted as a pointer or as a value; answers are pointers.
//
// # Queueing
//
// Each kind has one FIFO queue. A queued request is granted when it reaches
// the head, fewer than the limit of its kind are running and, for downloads,
// the disk fits: free - reserved - Size >= MIN_FREE_DISK, where reserved sums
// the Size of the running downloads (Size 0, unknown, reserves nothing and
// needs free - reserved >= MIN_FREE_DISK). The reservation covers a whole
// download although its bytes land on the disk gradually, so the check errs
// on the side of keeping the floor. The queue is strict: a small download
// does not overtake a large one that waits for disk, so large files cannot
// starve. A Force request (owner and sudo, -f) ignores the limit and goes
// ahead of every non-forced waiter; it still counts while it runs, and it
// still waits for the disk floor. A download larger than total - MIN_FREE_DISK
// can never fit and is refused with a reason the user can read, also when a
// later measurement shows this for one already queued.
//
// # Ownership
//
// The actor owns the grants, the queues and the cached disk measurement; no
// other actor reads them but through GetSlots. It watches every holder and
// releases the holder's slots and queue places when the holder terminates,
// so a crashed or cancelled task never leaks a slot.
//
// Free space is measured by Options.DiskFree on Options.Dir in a worker
// goroutine, once at start and then every RefreshEvery; Receive only reads
// the cached value, and the goroutine is cancelled when the actor stops or
// restarts. After each measurement and each release the queues are checked
// again.
//
// # Failure
//
// Until the first successful measurement the disk counts as fitting, so a
// slow or broken filesystem does not block start-up. A failed measurement is
// logged once when measurements start failing (and once when they recover)
// and the previous value is kept. Without a DiskFree function and a Dir the
// floor cannot be measured and is not enforced. The actor never panics on
// input; should it be restarted anyway, the new instance starts empty: the
// running tasks keep their stages, but their slots are no longer counted.
package slots
