package command

import (
	"strings"
)

// HelpText returns the /help message as Telegram HTML: every command with its aliases, usage
// and summary, then every flag of /mirror and /leech. All text from the tables is escaped, and
// the message stays well under Telegram's 4096-character limit (a test checks it).
func HelpText() string {
	var b strings.Builder
	b.WriteString("<b>Commands</b>\n")
	for _, s := range Specs {
		b.WriteString("\n/" + string(s.Name))
		for _, a := range s.Aliases {
			b.WriteString(", /" + a)
		}
		if s.AdminOnly {
			b.WriteString(" <i>(owner and sudo users)</i>")
		}
		b.WriteString("\n")
		if s.Usage != "/"+string(s.Name) {
			b.WriteString("<code>" + escapeHTML(s.Usage) + "</code>\n")
		}
		b.WriteString(escapeHTML(s.Summary) + "\n")
	}
	b.WriteString("\n<b>Flags of /mirror and /leech</b>\n")
	for _, f := range FlagSpecs {
		b.WriteString("\n<code>" + escapeHTML(f.Flag))
		switch f.Value {
		case RequiredValue:
			b.WriteString(" " + escapeHTML(f.Arg))
		case OptionalValue:
			b.WriteString(" [" + escapeHTML(f.Arg) + "]")
		}
		b.WriteString("</code> " + escapeHTML(f.Help))
	}
	b.WriteString("\n\nFlags go before or after the link. Instead of a link, reply to a message " +
		"that holds one, or a file. A flag's optional value is taken only if it neither starts " +
		"with - nor is a link; quote it otherwise.")
	return b.String()
}

// escapeHTML escapes what Telegram's HTML parse mode requires: &, < and >. Quotes need no
// escaping outside attributes, and html.EscapeString's &#34; would only lengthen the text.
func escapeHTML(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
