package tgapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mymmrac/telego"
	tu "github.com/mymmrac/telego/telegoutil"
)

// allowedUpdates are the update kinds the bot handles.
var allowedUpdates = []string{"message", "callback_query"}

// GetMe returns the bot's own user.
func (c *Client) GetMe(ctx context.Context) (User, error) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	u, err := c.bot.GetMe(ctx)
	if err != nil {
		return User{}, c.wrap("getMe", err)
	}
	return convertUser(u), nil
}

// GetUpdates long-polls for up to 100 updates from offset, waiting up to
// timeout (clamped to 0–50 s) for the first one. Only messages and callback
// queries are requested; an update that cannot be decoded is returned with
// both fields nil, so that its ID still advances the offset instead of
// blocking the queue forever.
func (c *Client) GetUpdates(ctx context.Context, offset int, timeout time.Duration) ([]Update, error) {
	timeout = min(max(timeout, 0), maxPollTimeout)
	secs := int(timeout / time.Second)
	ctx, cancel := context.WithTimeout(ctx, time.Duration(secs)*time.Second+pollGrace)
	defer cancel()
	sink := &rawSink{}
	ctx = context.WithValue(ctx, rawSinkKey{}, sink)
	ups, err := c.bot.GetUpdates(ctx, &telego.GetUpdatesParams{
		Offset:         offset,
		Limit:          100,
		Timeout:        secs,
		AllowedUpdates: allowedUpdates,
	})
	if err != nil {
		if sink.raw != nil {
			// The server answered ok but telego could not decode the
			// batch (e.g. a forward origin type newer than telego).
			return c.decodeUpdates(sink.raw)
		}
		return nil, c.wrap("getUpdates", err)
	}
	out := make([]Update, len(ups))
	for i := range ups {
		out[i] = convertUpdate(&ups[i])
	}
	return out, nil
}

// decodeUpdates decodes a getUpdates result update by update, keeping the
// IDs of updates that do not decode.
func (c *Client) decodeUpdates(raw json.RawMessage) ([]Update, error) {
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("telegram getUpdates: decoding the result: %w", err)
	}
	out := make([]Update, 0, len(items))
	for _, item := range items {
		var head struct {
			UpdateID      int             `json:"update_id"`
			Message       json.RawMessage `json:"message"`
			CallbackQuery json.RawMessage `json:"callback_query"`
		}
		if err := json.Unmarshal(item, &head); err != nil {
			return nil, fmt.Errorf("telegram getUpdates: decoding an update: %w", err)
		}
		u := Update{ID: head.UpdateID}
		var err error
		switch {
		case head.Message != nil:
			var m telego.Message
			if err = json.Unmarshal(head.Message, &m); err == nil {
				u.Message = convertMessage(&m)
			}
		case head.CallbackQuery != nil:
			var q telego.CallbackQuery
			if err = json.Unmarshal(head.CallbackQuery, &q); err == nil {
				u.Callback = convertCallback(&q)
			}
		}
		if err != nil {
			c.log.Warn("skipping an update telegram sent that does not decode",
				slog.Int("update_id", head.UpdateID), slog.Any("err", err))
		}
		out = append(out, u)
	}
	return out, nil
}

// SendText sends a text message and returns its ID.
func (c *Client) SendText(ctx context.Context, t Text) (int, error) {
	markup, err := inlineMarkup(t.Keyboard)
	if err != nil {
		return 0, fmt.Errorf("telegram sendMessage: %w", err)
	}
	p := &telego.SendMessageParams{
		ChatID:              tu.ID(t.ChatID),
		Text:                t.Text,
		DisableNotification: t.Silent,
		ReplyParameters:     replyTo(t.ChatID, t.ReplyTo),
	}
	if t.HTML {
		p.ParseMode = telego.ModeHTML
	}
	if t.NoPreview {
		p.LinkPreviewOptions = &telego.LinkPreviewOptions{IsDisabled: true}
	}
	if markup != nil {
		// Only a non-nil markup: a typed nil in the interface would be
		// sent as "reply_markup": null.
		p.ReplyMarkup = markup
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	m, err := c.bot.SendMessage(ctx, p)
	if err != nil {
		return 0, c.wrap("sendMessage", err)
	}
	if m == nil {
		return 0, errors.New("telegram sendMessage: empty result")
	}
	return m.MessageID, nil
}

// EditText replaces the text and keyboard of a message; a nil keyboard
// removes it. Edited texts never get a link preview: the bot edits status
// messages, which it sends without one, and an edit without
// link_preview_options would add it. Telegram's "message is not modified"
// counts as success.
func (c *Client) EditText(ctx context.Context, chatID int64, msgID int, text string, html bool, kb Keyboard) error {
	markup, err := inlineMarkup(kb)
	if err != nil {
		return fmt.Errorf("telegram editMessageText: %w", err)
	}
	p := &telego.EditMessageTextParams{ChatID: tu.ID(chatID), MessageID: msgID, Text: text, ReplyMarkup: markup,
		LinkPreviewOptions: &telego.LinkPreviewOptions{IsDisabled: true}}
	if html {
		p.ParseMode = telego.ModeHTML
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if _, err := c.bot.EditMessageText(ctx, p); err != nil {
		err = c.wrap("editMessageText", err)
		if IsNotModified(err) {
			return nil
		}
		return err
	}
	return nil
}

// DeleteMessage deletes a message; one that is already gone counts as
// deleted.
func (c *Client) DeleteMessage(ctx context.Context, chatID int64, msgID int) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	if err := c.bot.DeleteMessage(ctx, &telego.DeleteMessageParams{ChatID: tu.ID(chatID), MessageID: msgID}); err != nil {
		err = c.wrap("deleteMessage", err)
		if hasDescription(err, "message to delete not found") {
			return nil
		}
		return err
	}
	return nil
}

// AnswerCallback answers a callback query, with text shown as a toast or,
// with alert, as a dialog.
func (c *Client) AnswerCallback(ctx context.Context, id, text string, alert bool) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	err := c.bot.AnswerCallbackQuery(ctx, &telego.AnswerCallbackQueryParams{CallbackQueryID: id, Text: text, ShowAlert: alert})
	return c.wrap("answerCallbackQuery", err)
}

// SetCommands sets the bot's command menu.
func (c *Client) SetCommands(ctx context.Context, cmds []BotCommand) error {
	list := make([]telego.BotCommand, len(cmds))
	for i, cmd := range cmds {
		list[i] = telego.BotCommand{Command: cmd.Command, Description: cmd.Description}
	}
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return c.wrap("setMyCommands", c.bot.SetMyCommands(ctx, &telego.SetMyCommandsParams{Commands: list}))
}

// GetFile looks a file up for Download. The cloud Bot API refuses files
// over 20 MB with ErrFileTooBig. A local server answers only once it has
// fetched the whole file, so there the call has no deadline of its own.
func (c *Client) GetFile(ctx context.Context, fileID string) (File, error) {
	if !c.local {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, callTimeout)
		defer cancel()
	}
	f, err := c.bot.GetFile(ctx, &telego.GetFileParams{FileID: fileID})
	if err != nil {
		err = c.wrap("getFile", err)
		if hasDescription(err, "file is too big") {
			return File{}, fmt.Errorf("%w (%w)", ErrFileTooBig, err)
		}
		return File{}, err
	}
	if f == nil {
		return File{}, errors.New("telegram getFile: empty result")
	}
	return File{ID: f.FileID, Path: f.FilePath, Size: f.FileSize}, nil
}

// replyTo returns reply parameters for message id in chat, or nil for
// none. The reply is sent even when the message is gone: losing the quote
// is better than losing the answer. The chat is named explicitly because
// telego's JSON encoder ignores omitzero and would send "chat_id": "".
func replyTo(chatID int64, id int) *telego.ReplyParameters {
	if id <= 0 {
		return nil
	}
	return &telego.ReplyParameters{MessageID: id, ChatID: tu.ID(chatID), AllowSendingWithoutReply: true}
}
