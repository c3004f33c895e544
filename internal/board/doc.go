// Package board renders the status message of one chat: the text (Telegram
// HTML parse mode) and its inline keyboard, in the layout users of the Python
// mirror-leech bots know (numbered tasks, a 12-cell bar, processed/size, speed,
// ETA, a footer with CPU, RAM, free disk and uptime).
//
// It owns nothing but formatting. It receives a list of Task values (in the
// order they should be shown), a Footer and a page request, and emits a Page:
// the HTML text, the keyboard rows (Button values whose callback data is at
// most 64 bytes) and the page actually shown. The helpers Bar, Bytes, Speed and
// Duration are exported so that other replies (/stats, leech summaries) format
// numbers the same way.
//
// Render cannot fail. Whatever it is given, the text stays below Telegram's
// 4096 UTF-16 unit limit: free-text fields are sanitised (valid UTF-8, no
// control characters), HTML-escaped and truncated (tgtext.Name), and when the page is still
// too long it drops detail lines and finally whole tasks, saying how many were
// left out. A cancel button whose callback data would exceed 64 bytes is left
// out rather than sent (Telegram rejects the whole keyboard with
// BUTTON_DATA_INVALID); the "/cancel ID" line remains as the fallback.
package board
