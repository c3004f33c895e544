// Package tgfake is a fake Telegram Bot API server for tests, built on the
// standard library only.
//
// It owns a loopback HTTP/1.1 server on 127.0.0.1:0 that speaks the Bot API
// wire protocol, so the bot under test can run in the test process or as a
// separate process pointed at URL() (TELEGRAM_API_URL, telego's
// WithAPIServer). Everything goes over real HTTP: requests at
// /bot<token>/<method> (and /bot<token>/test/<method>), by GET or POST, with
// parameters in the query string, urlencoded, JSON (non-string values kept as
// JSON text) or multipart bodies, chunked or gzip-compressed. File parts are
// streamed to disk while hashed and the upload limit is enforced while the
// body is read. Answers use Telegram's envelope, {"ok":true,"result":…} or
// {"ok":false,"error_code":N,"description":"…","parameters":{…}}, with the
// HTTP status equal to error_code and Telegram's exact error texts.
//
// It receives what a user does through PushText, PushDocument,
// PushDocumentFile and PushCallback, which queue real Update objects for
// getUpdates. It emits what the bot did through Calls (every request with
// its parameters, files, status and timing), Messages and Documents (the
// chat as the user sees it, edits and deletions applied), Answer, Commands
// and PendingUpdates; WaitFor blocks until a condition on them holds.
//
// Implemented methods: getMe, getUpdates (offset confirmation, negative
// offsets, limit 1-100, timeout 0-50 s, wake-up on new updates,
// allowed_updates, 409 for the older of two polls), deleteWebhook,
// getWebhookInfo, setMyCommands, getMyCommands, deleteMyCommands,
// sendMessage, editMessageText, editMessageCaption, editMessageReplyMarkup,
// deleteMessage, answerCallbackQuery, sendChatAction, sendDocument,
// sendVideo, sendAudio, sendAnimation (multipart upload, attach://, file_id,
// HTTP URL fetched like Telegram does, file:// in local mode) and getFile,
// plus GET /file/bot<token>/<file_path> in cloud mode. Texts are checked
// after HTML entity parsing (4096 UTF-16 units, captions 1024), HTML is
// validated with TDLib's rules and error texts, inline keyboards need an
// action per button and callback_data of 1-64 bytes. Message ids are a
// per-chat sequence shared by user and bot messages. Webhooks, albums,
// photos and Markdown validation are not emulated: setWebhook and
// sendMediaGroup answer 404 "Not Found: method not found", and Markdown
// texts are stored as sent.
//
// Options select cloud limits (50 MB request bodies, getFile up to 20 MiB,
// relative file paths) or those of telegram-bot-api --local (2000 MiB per
// file, absolute file paths, file:// uploads, no /file/ downloads), and
// opt-in flood control (per chat, per group, global) answering 429 with a
// computed retry_after. Faults are injected with FailNext (any status; 429
// with retry_after and Retry-After, 5xx as plain text) and DropNext (the
// connection is closed without an answer after the body was read).
//
// How it fails: New fails the test when it cannot listen or create its
// folder; misuse of the test API (a reply to a message that does not exist,
// a fault with a success code) is reported with t.Errorf. The server
// itself never fails a test: the bot sees Telegram's errors. The server
// stops at the end of the test (or on Close): pending long polls answer
// with no updates and open connections are closed.
package tgfake
