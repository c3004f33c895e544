// Package command parses the bot's chat commands. It is pure: it knows no Telegram types, does
// no I/O and holds no state, so the gateway and the session can both call it.
//
// # API
//
// [Parse] receives a message text starting with '/' and returns a [Command]: the canonical
// [Name] (aliases such as /m and /l resolve to /mirror and /leech), the "@bot" mention if one
// was given, the link, the remaining positional arguments and the per-task [Flags]. [Specs] and
// [FlagSpecs] are the constant tables of commands and flags; [Lookup] resolves a name or alias;
// [HelpText] renders the /help message from those tables; [IsLink] tells a URL or magnet from
// other words; [Command.String] renders a command back into text that parses to the same
// command.
//
// # Syntax
//
// Words are separated by white space. A word may be quoted to hold spaces or to start with '-':
// "double quotes" (with \" and \\ escapes), 'single quotes' (an apostrophe inside, as in
// 'Don't Stop', does not end them) and the curly quotes phones substitute. Flags are parsed only
// for the commands that take a link (/mirror and /leech), so "/authorize -100123" keeps its
// negative chat id as an argument. Flags may come before or after the link. A flag with a
// required value (-n) takes the next word unless that word is another flag; a flag with an
// optional value (-z, -e, -d) takes the next word only if it is quoted, or neither starts with
// '-' nor is a link, as in the Python bots.
//
// # Failure
//
// Every error Parse returns is a *[UsageError] whose Error text is safe to show the user: what is
// wrong, then the command's usage line. Its Kind is one of the sentinel errors (ErrNotCommand,
// ErrUnknownCommand, ErrUnknownFlag, ErrMissingValue, ErrBadValue, ErrDuplicateFlag,
// ErrSecondLink, ErrBadQuote), so a caller can classify with errors.Is; for example the gateway
// ignores an unknown command addressed to another bot (UsageError.Mention).
package command
