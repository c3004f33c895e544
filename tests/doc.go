// Package tests holds mirrorleech's end-to-end tests and the fakes they
// share: tgfake (the Telegram Bot API, the only thing faked) and origin (an
// HTTP file server with ranges, throttling and dropped connections). The
// end-to-end tests in tests/e2e build the real binary and drive it as a
// separate process, the way a user and Telegram would.
package tests
