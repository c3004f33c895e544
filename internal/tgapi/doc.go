// Package tgapi is mirrorleech's client for the Telegram Bot API: a plain
// engine over telego that knows nothing of actors, flood control or retries.
//
// It owns the HTTP side of talking to Telegram: one net/http client (no
// client-wide timeout, so long uploads are not cut off; per-call deadlines
// instead), conversion between telego's types and the small types of this
// package (telego types never leave it), streamed document uploads of a byte
// range of a file, and file downloads from the cloud file endpoint or, with a
// local telegram-bot-api server, straight from its disk.
//
// It receives calls from the outbox and gateway actors (SendText, EditText,
// DeleteMessage, AnswerCallback, SendDocument, GetUpdates, GetFile, Download,
// GetMe, SetCommands) and emits their results plus progress callbacks for
// uploads and downloads. Uploads are always multipart, also with a local
// server (no file:// shortcut), because a part is a byte range of a file.
// Close releases the idle connections of the default transport.
//
// How it fails: every error is typed so callers can classify it without
// parsing text. *APIError is an answer of the Bot API with ok=false (with
// RetryAfter for flood control, also parsed from the description when the
// parameters are missing); *TransportError is a network failure, a 5xx answer
// or an unreadable response; ErrTooLarge and ErrFileTooBig are the upload and
// cloud download size limits, with user-safe texts. RetryAfter, IsTransient,
// IsNotModified and IsMessageGone classify errors. "message is not modified"
// on edit and "message to delete not found" on delete count as success. No
// error string ever contains the bot token: net/http errors embed the request
// URL, which holds it, so URLs are redacted at the source while context,
// net.Error and syscall errors stay reachable through errors.Is and errors.As.
// The package never retries; retry policy belongs to the caller.
package tgapi
