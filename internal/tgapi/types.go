package tgapi

import (
	"fmt"
	"time"

	"github.com/mymmrac/telego"
)

// maxCallbackData is the Bot API's limit of callback_data, in bytes.
const maxCallbackData = 64

// Button is an inline keyboard button that sends Data back as a callback.
type Button struct{ Text, Data string }

// Keyboard is an inline keyboard, rows of buttons.
type Keyboard [][]Button

// User is a Telegram user or bot.
type User struct {
	ID                  int64
	Username, FirstName string
	IsBot               bool
}

// Document is a file sent as a document.
type Document struct {
	FileID, FileName, MimeType string
	Size                       int64
}

// Message is an incoming message.
type Message struct {
	ID       int
	ChatID   int64
	ChatType string // "private", "group", "supergroup" or "channel"
	ThreadID int
	From     User
	Text     string
	Caption  string
	Document *Document
	ReplyTo  *Message
	Date     time.Time
}

// Callback is a press of an inline keyboard button.
type Callback struct {
	ID        string
	From      User
	ChatID    int64 // zero for buttons of inline messages
	MessageID int
	Data      string
}

// Update is one getUpdates entry. Updates of other kinds than messages and
// callback queries come with both fields nil: only their ID matters, to
// advance the offset.
type Update struct {
	ID       int
	Message  *Message
	Callback *Callback
}

// Text is a text message to send.
type Text struct {
	ChatID    int64
	Text      string
	HTML      bool // parse_mode HTML
	ReplyTo   int  // message ID; sent even when that message is gone
	Keyboard  Keyboard
	Silent    bool // disable_notification
	NoPreview bool // no link preview
}

// Upload is a document to send: the byte range [Offset, Offset+Length) of
// the file at Path, named FileName.
type Upload struct {
	ChatID         int64
	Path           string
	Offset, Length int64
	FileName       string // empty means the base name of Path
	Caption        string
	HTML           bool // caption parse_mode HTML
	ReplyTo        int
}

// File is a file as returned by getFile. Path is relative to the file
// endpoint with the cloud Bot API and an absolute local path with a local
// server.
type File struct {
	ID, Path string
	Size     int64
}

// BotCommand is an entry of the bot's command menu.
type BotCommand struct{ Command, Description string }

func convertUser(u *telego.User) User {
	if u == nil {
		return User{}
	}
	return User{ID: u.ID, Username: u.Username, FirstName: u.FirstName, IsBot: u.IsBot}
}

func convertMessage(m *telego.Message) *Message {
	if m == nil {
		return nil
	}
	out := &Message{
		ID:       m.MessageID,
		ChatID:   m.Chat.ID,
		ChatType: m.Chat.Type,
		ThreadID: m.MessageThreadID,
		From:     convertUser(m.From),
		Text:     m.Text,
		Caption:  m.Caption,
		ReplyTo:  convertMessage(m.ReplyToMessage),
		Date:     time.Unix(m.Date, 0),
	}
	if d := m.Document; d != nil {
		out.Document = &Document{FileID: d.FileID, FileName: d.FileName, MimeType: d.MimeType, Size: d.FileSize}
	}
	return out
}

func convertCallback(q *telego.CallbackQuery) *Callback {
	if q == nil {
		return nil
	}
	out := &Callback{ID: q.ID, From: convertUser(&q.From), Data: q.Data}
	if q.Message != nil {
		out.ChatID = q.Message.GetChat().ID
		out.MessageID = q.Message.GetMessageID()
	}
	return out
}

func convertUpdate(u *telego.Update) Update {
	return Update{ID: u.UpdateID, Message: convertMessage(u.Message), Callback: convertCallback(u.CallbackQuery)}
}

// inlineMarkup converts kb, checking callback_data against the Bot API's
// limits so that a bad button fails here rather than as BUTTON_DATA_INVALID.
// An empty keyboard gives nil.
func inlineMarkup(kb Keyboard) (*telego.InlineKeyboardMarkup, error) {
	if len(kb) == 0 {
		return nil, nil
	}
	rows := make([][]telego.InlineKeyboardButton, len(kb))
	for i, row := range kb {
		rows[i] = make([]telego.InlineKeyboardButton, len(row))
		for j, b := range row {
			if b.Data == "" || len(b.Data) > maxCallbackData {
				return nil, fmt.Errorf("button %q: callback data must be 1-%d bytes, got %d", b.Text, maxCallbackData, len(b.Data))
			}
			rows[i][j] = telego.InlineKeyboardButton{Text: b.Text, CallbackData: b.Data}
		}
	}
	return &telego.InlineKeyboardMarkup{InlineKeyboard: rows}, nil
}
