package command

import (
	"net/url"
	"strconv"
	"strings"
	"unicode"
)

// IsLink reports whether s is a link a task can start from: an http:// or https:// URL with a
// host (a .torrent file's URL is one too), or a magnet URI with an xt (exact topic) parameter.
// Scheme letter case does not matter.
func IsLink(s string) bool {
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return false
	}
	if hasPrefixFold(s, "magnet:?") {
		for _, kv := range strings.Split(s[len("magnet:?"):], "&") {
			key, value, _ := strings.Cut(kv, "=")
			// Several topics are numbered: xt.1, xt.2, ...
			if (key == "xt" || strings.HasPrefix(key, "xt.")) && value != "" {
				return true
			}
		}
		return false
	}
	if !hasPrefixFold(s, "http://") && !hasPrefixFold(s, "https://") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || u.Hostname() == "" {
		return false
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return false
		}
	}
	return true
}

// hasPrefixFold is strings.HasPrefix ignoring ASCII letter case.
func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
