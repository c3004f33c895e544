package tgfake

import "encoding/json"

// The types below are the subset of the Bot API objects the fake emits. They
// carry the real field names so that any client (telego included) decodes
// them as it would decode Telegram's answers. They are exported because the
// Push functions return the stored Message.

// User is a Telegram user or bot.
type User struct {
	ID                      int64  `json:"id"`
	IsBot                   bool   `json:"is_bot"`
	FirstName               string `json:"first_name"`
	Username                string `json:"username,omitempty"`
	CanJoinGroups           bool   `json:"can_join_groups,omitempty"`
	CanReadAllGroupMessages bool   `json:"can_read_all_group_messages,omitempty"`
	SupportsInlineQueries   bool   `json:"supports_inline_queries,omitempty"`
}

// Chat is a private chat (positive id), a group or a supergroup (negative
// id; supergroup ids are below -10^12).
type Chat struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	Title     string `json:"title,omitempty"`
	FirstName string `json:"first_name,omitempty"`
	Username  string `json:"username,omitempty"`
}

// MessageEntity is one formatting entity; offsets and lengths are in UTF-16
// code units, as in the Bot API.
type MessageEntity struct {
	Type          string `json:"type"`
	Offset        int    `json:"offset"`
	Length        int    `json:"length"`
	URL           string `json:"url,omitempty"`
	User          *User  `json:"user,omitempty"`
	Language      string `json:"language,omitempty"`
	CustomEmojiID string `json:"custom_emoji_id,omitempty"`
}

// Document is the file object of a document, video, audio or animation
// message. Width, Height and Duration are only set for the media kinds that
// have them.
type Document struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	Width        int    `json:"width,omitempty"`
	Height       int    `json:"height,omitempty"`
	Duration     int    `json:"duration,omitempty"`
	FileName     string `json:"file_name,omitempty"`
	MimeType     string `json:"mime_type,omitempty"`
	FileSize     int64  `json:"file_size,omitempty"`
}

// Message is a Telegram message as the Bot API serialises it. An
// inaccessible message (a deleted one inside a callback query) has Date 0.
type Message struct {
	MessageID       int             `json:"message_id"`
	From            *User           `json:"from,omitempty"`
	Date            int64           `json:"date"`
	Chat            Chat            `json:"chat"`
	ReplyToMessage  *Message        `json:"reply_to_message,omitempty"`
	EditDate        int64           `json:"edit_date,omitempty"`
	Text            string          `json:"text,omitempty"`
	Entities        []MessageEntity `json:"entities,omitempty"`
	Animation       *Document       `json:"animation,omitempty"`
	Audio           *Document       `json:"audio,omitempty"`
	Document        *Document       `json:"document,omitempty"`
	Video           *Document       `json:"video,omitempty"`
	Caption         string          `json:"caption,omitempty"`
	CaptionEntities []MessageEntity `json:"caption_entities,omitempty"`
	ReplyMarkup     json.RawMessage `json:"reply_markup,omitempty"`
}

// clone returns a deep enough copy for handing out: the nested reply and the
// slices are copied so callers cannot change the stored state.
func (m *Message) clone() *Message {
	c := *m
	if m.From != nil {
		u := *m.From
		c.From = &u
	}
	if m.ReplyToMessage != nil {
		c.ReplyToMessage = m.ReplyToMessage.clone()
	}
	c.Entities = append([]MessageEntity(nil), m.Entities...)
	c.CaptionEntities = append([]MessageEntity(nil), m.CaptionEntities...)
	for _, d := range []**Document{&c.Animation, &c.Audio, &c.Document, &c.Video} {
		if *d != nil {
			v := **d
			*d = &v
		}
	}
	c.ReplyMarkup = append(json.RawMessage(nil), m.ReplyMarkup...)
	if len(c.ReplyMarkup) == 0 {
		c.ReplyMarkup = nil
	}
	return &c
}

// CallbackQuery is an inline keyboard button press.
type CallbackQuery struct {
	ID           string   `json:"id"`
	From         User     `json:"from"`
	Message      *Message `json:"message,omitempty"`
	ChatInstance string   `json:"chat_instance"`
	Data         string   `json:"data,omitempty"`
}

// Update is one entry of the getUpdates queue.
type Update struct {
	UpdateID      int            `json:"update_id"`
	Message       *Message       `json:"message,omitempty"`
	CallbackQuery *CallbackQuery `json:"callback_query,omitempty"`
}

// kind names the update type as allowed_updates spells it.
func (u *Update) kind() string {
	if u.CallbackQuery != nil {
		return "callback_query"
	}
	return "message"
}

// File is the getFile answer.
type File struct {
	FileID       string `json:"file_id"`
	FileUniqueID string `json:"file_unique_id"`
	FileSize     int64  `json:"file_size,omitempty"`
	FilePath     string `json:"file_path,omitempty"`
}

// BotCommand is one entry of setMyCommands.
type BotCommand struct {
	Command     string `json:"command"`
	Description string `json:"description"`
}

// envelope is the Bot API response wrapper.
type envelope struct {
	OK          bool                `json:"ok"`
	Result      any                 `json:"result,omitempty"`
	ErrorCode   int                 `json:"error_code,omitempty"`
	Description string              `json:"description,omitempty"`
	Parameters  *responseParameters `json:"parameters,omitempty"`
}

type responseParameters struct {
	RetryAfter int `json:"retry_after,omitempty"`
}
