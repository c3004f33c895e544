package command

import "strings"

// Name is a command's canonical name, without the slash.
type Name string

// The commands the bot understands.
const (
	Start       Name = "start"
	Help        Name = "help"
	Ping        Name = "ping"
	Stats       Name = "stats"
	Mirror      Name = "mirror"
	Leech       Name = "leech"
	Status      Name = "status"
	Cancel      Name = "cancel"
	CancelAll   Name = "cancelall"
	Authorize   Name = "authorize"
	Unauthorize Name = "unauthorize"
	Nodes       Name = "nodes"
)

// Spec describes one command.
type Spec struct {
	// Name is the canonical name.
	Name Name
	// Aliases are the other names it answers to, without the slash.
	Aliases []string
	// Usage is the one-line syntax, for example "/cancel TASK_ID".
	Usage string
	// Summary says what the command does, in one sentence.
	Summary string
	// AdminOnly commands are for the owner and sudo users.
	AdminOnly bool
	// TakesLink commands take a link (or a reply to one) and the per-task flags.
	TakesLink bool
}

// taskUsage is the argument syntax shared by /mirror and /leech.
const taskUsage = " [LINK] [-n NAME] [-z [PASSWORD]] [-e [PASSWORD]] [-s] [-d [RATIO][:MINUTES]] [-f]"

// Specs lists every command in the order /help shows them. It is constant data: callers must
// not modify it.
var Specs = []Spec{
	{Name: Mirror, Aliases: []string{"m"}, Usage: "/mirror" + taskUsage, TakesLink: true,
		Summary: "Download a link, or the link or file in the replied-to message, and copy the result to the mirror destination."},
	{Name: Leech, Aliases: []string{"l"}, Usage: "/leech" + taskUsage, TakesLink: true,
		Summary: "Download a link, or the link or file in the replied-to message, and upload the result into this chat."},
	{Name: Status, Aliases: []string{"s"}, Usage: "/status",
		Summary: "Show the live status of the tasks in this chat."},
	{Name: Cancel, Aliases: []string{"c"}, Usage: "/cancel [TASK_ID]",
		Summary: "Cancel one of your tasks (admins: any task) by its id, shown on the status message, " +
			"or as a reply to the task's command or to the status message."},
	{Name: CancelAll, Usage: "/cancelall",
		Summary: "Cancel all your tasks (admins: every task on every node, after confirming)."},
	{Name: Stats, Usage: "/stats",
		Summary: "Show the answering node's uptime, CPU, memory, disk and task counts."},
	{Name: Ping, Usage: "/ping",
		Summary: "Check that the bot answers, and how fast."},
	{Name: Help, Usage: "/help",
		Summary: "Show this help."},
	{Name: Start, Usage: "/start",
		Summary: "Say hello and tell whether you may use the bot."},
	{Name: Nodes, Usage: "/nodes", AdminOnly: true,
		Summary: "List the cluster's nodes and which one polls Telegram."},
	{Name: Authorize, Aliases: []string{"auth", "a"}, Usage: "/authorize [CHAT_OR_USER_ID]", AdminOnly: true,
		Summary: "Allow a chat or user to use the bot: the given id, else the replied-to user, else this chat."},
	{Name: Unauthorize, Aliases: []string{"unauth", "ua"}, Usage: "/unauthorize [CHAT_OR_USER_ID]", AdminOnly: true,
		Summary: "Withdraw what /authorize granted, with the same choice of target."},
}

// Lookup resolves a command name or alias (without the slash, in any ASCII letter case) to its
// Spec.
func Lookup(name string) (Spec, bool) {
	name = asciiLower(name)
	for _, s := range Specs {
		if string(s.Name) == name {
			return s, true
		}
		for _, a := range s.Aliases {
			if a == name {
				return s, true
			}
		}
	}
	return Spec{}, false
}

// asciiLower lower-cases ASCII letters only: strings.ToLower would also fold characters such as
// the Kelvin sign into ASCII letters and so accept look-alike command names.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'A' && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// ValueKind says whether a flag takes a value.
type ValueKind int

// The kinds of flag values.
const (
	// NoValue flags are switches, like -s.
	NoValue ValueKind = iota
	// RequiredValue flags always take the next word, like -n NAME.
	RequiredValue
	// OptionalValue flags take the next word only if it is quoted or neither starts with '-'
	// nor is a link, like -z [PASSWORD].
	OptionalValue
)

// FlagSpec describes one per-task flag of /mirror and /leech.
type FlagSpec struct {
	// Flag is the flag as typed, for example "-n".
	Flag string
	// Arg names the value in usage text ("NAME"); empty for switches.
	Arg string
	// Value says whether the flag takes a value.
	Value ValueKind
	// Help says what the flag does, in one sentence.
	Help string
}

// FlagSpecs lists the per-task flags in the order /help shows them and Command.String writes
// them. It is constant data: callers must not modify it.
var FlagSpecs = []FlagSpec{
	{Flag: "-n", Arg: "NAME", Value: RequiredValue,
		Help: `Name the result; quote a name with spaces: -n "My File.mkv".`},
	{Flag: "-z", Arg: "PASSWORD", Value: OptionalValue,
		Help: "Zip the result, with an optional password."},
	{Flag: "-e", Arg: "PASSWORD", Value: OptionalValue,
		Help: "Extract the downloaded archives, with their password if they have one."},
	{Flag: "-s", Value: NoValue,
		Help: "Choose which files of a torrent to download before it starts."},
	{Flag: "-d", Arg: "RATIO:MINUTES", Value: OptionalValue,
		Help: "Seed the torrent after the download until the ratio or the minutes are reached (either may be left out; no value: the defaults)."},
	{Flag: "-f", Value: NoValue,
		Help: "Force start: skip the queue (owner and sudo users only)."},
}

// lookupFlag finds a flag by its text, in any ASCII letter case.
func lookupFlag(word string) (FlagSpec, bool) {
	word = asciiLower(word)
	for _, f := range FlagSpecs {
		if f.Flag == word {
			return f, true
		}
	}
	return FlagSpec{}, false
}
