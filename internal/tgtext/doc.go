// Package tgtext makes the node's texts fit Telegram: every message, edit
// and caption must hold at most MaxText (or MaxCaption) characters as
// Telegram counts them, UTF-16 code units of the text after its HTML
// entities and tags are parsed, or the Bot API refuses it with 400
// ("message is too long") and the user hears nothing.
//
// It has two parts, used at two depths:
//
//   - Where a message is composed, text that comes from outside the bot
//     (a file name, a link, the user's own input echoed back, an error that
//     quotes them) goes through Name or Echo: control characters and
//     bidirectional overrides are stripped (they could make a name display
//     as something else or break the layout), the text is shortened with an
//     ellipsis in the middle (the end of a name, its extension or part
//     number, stays visible) and HTML-escaped. Short and Line do the same
//     without escaping, for plain texts.
//   - Where messages leave the node (actors/outbox), Fit shortens any text
//     that is still too long, escape-aware: it counts as Telegram does, never
//     cuts inside an entity like &amp; or a tag, and closes the tags left
//     open, so a fitted text still parses.
//
// The package has no state and no failure modes: every function returns a
// usable text for any input, including invalid UTF-8 (invalid bytes become
// U+FFFD, which Telegram would otherwise reject).
package tgtext
