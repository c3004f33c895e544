package command

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestIsLink(t *testing.T) {
	for s, want := range map[string]bool{
		"https://example.com/file.iso":                true,
		"http://example.com":                          true,
		"HTTPS://EXAMPLE.COM/X":                       true,
		"https://example.com/a.torrent":               true,
		"http://127.0.0.1:8080/x?y=1#z":               true,
		"http://[::1]/x":                              true,
		"https://t.me/c/123/456":                      true,
		"https://example.com/file.zip::password":      true,
		"magnet:?xt=urn:btih:0123456789abcdef":        true,
		"MAGNET:?dn=name&xt=urn:btih:abc":             true,
		"magnet:?xt.1=urn:btih:abc&xt.2=urn:btih:def": true,
		"magnet:?dn=name":                             false,
		"magnet:?xt=":                                 false,
		"magnet:xt=urn:btih:abc":                      false,
		"https://":                                    false,
		"https:///path":                               false,
		"http://:80/":                                 false,
		"https://exa mple.com":                        false,
		"https://example.com/a b":                     false,
		"ftp://example.com/file":                      false,
		"example.com/file":                            false,
		"www.example.com":                             false,
		"-z":                                          false,
		"":                                            false,
		"http//example.com":                           false,
		"https://example.com:99999999999999999999999999": false,
		"https://example.com:0/x":                        false,
		"https://example.com:65535/x":                    true,
	} {
		require.Equal(t, want, IsLink(s), s)
	}
}
