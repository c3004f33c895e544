// Package messages is the contract between mirrorleech's actors: every message
// type that one actor sends another is declared here, and nothing else.
//
// It is a leaf package: it imports no actor implementation, no engine and no
// Telegram library, so any actor may depend on it without cycles.
//
// Naming follows the house rules: commands are imperative (StartTask,
// CancelTask), events are past tense (DownloadProgressed, StageFinished),
// requests and responses come in pairs (GetNodeStats / NodeStats). Messages are
// sent by pointer and never mutated after sending.
//
// Messages that cross nodes (those sent to cluster kinds: sessions and chat
// boards) are plain Go structs while mirrorleech runs as a single member; the
// cluster issue moves them to messages/*.proto with generated code. Keeping
// every field a plain value (no channels, no funcs, no pointers into actor
// state) is what makes that move mechanical.
//
// Failure: the package holds no state and cannot fail.
package messages
