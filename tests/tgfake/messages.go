package tgfake

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

const notModified = "message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message"

// formatted is a text or caption after entity parsing.
type formatted struct {
	raw       string
	parseMode string
	plain     string
	entities  []MessageEntity
}

// format parses text in parse_mode (or with explicit entities) and trims
// surrounding white space the way Telegram stores messages.
func format(text, parseMode, entitiesJSON string) (formatted, *apiError) {
	f := formatted{raw: text, parseMode: parseMode}
	switch strings.ToLower(parseMode) {
	case "html":
		plain, entities, errText := parseHTML(text)
		if errText != "" {
			return f, badRequest("can't parse entities: %s", errText)
		}
		f.plain, f.entities = plain, entities
	case "markdown", "markdownv2":
		// Markdown is accepted without validation: the bot under test uses
		// HTML, and a half-right Markdown parser would mislead more than help.
		f.plain = text
	case "":
		f.plain = text
		if entitiesJSON != "" {
			if err := json.Unmarshal([]byte(entitiesJSON), &f.entities); err != nil {
				return f, badRequest("can't parse entities JSON object")
			}
		}
	default:
		return f, badRequest("unsupported parse_mode")
	}
	f.plain, f.entities = trimText(f.plain, f.entities)
	return f, nil
}

// trimText removes leading and trailing white space and moves the entities
// accordingly; entities left empty are dropped.
func trimText(s string, entities []MessageEntity) (string, []MessageEntity) {
	trimmedLeft := strings.TrimLeftFunc(s, unicode.IsSpace)
	lead := utf16Len(s[:len(s)-len(trimmedLeft)])
	out := strings.TrimRightFunc(trimmedLeft, unicode.IsSpace)
	size := utf16Len(out)
	var kept []MessageEntity
	for _, e := range entities {
		start, end := max(e.Offset-lead, 0), min(e.Offset+e.Length-lead, size)
		if end <= start {
			continue
		}
		e.Offset, e.Length = start, end-start
		kept = append(kept, e)
	}
	return out, kept
}

// markup is a validated reply_markup.
type markup struct {
	raw   string
	canon string
	// inline is the inline keyboard JSON Telegram echoes in the message; nil
	// for other keyboards, which are not part of the message.
	inline json.RawMessage
}

// checkMarkup validates reply_markup like Telegram does for the parts a bot
// gets wrong: inline buttons need text and exactly one action, and
// callback_data must be 1-64 bytes.
func checkMarkup(raw string) (markup, *apiError) {
	m := markup{raw: raw}
	if strings.TrimSpace(raw) == "" {
		return m, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal([]byte(raw), &obj); err != nil {
		return m, badRequest("can't parse reply keyboard markup JSON object")
	}
	kb, ok := obj["inline_keyboard"]
	if !ok {
		return m, nil
	}
	var rows []json.RawMessage
	if err := json.Unmarshal(kb, &rows); err != nil {
		return m, badRequest("field \"inline_keyboard\" of the InlineKeyboardMarkup must be an Array")
	}
	buttons := 0
	for _, rawRow := range rows {
		var row []map[string]json.RawMessage
		if err := json.Unmarshal(rawRow, &row); err != nil {
			return m, badRequest("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
		}
		for _, b := range row {
			if e := checkButton(b); e != nil {
				return m, e
			}
			buttons++
		}
	}
	if buttons == 0 {
		return m, nil
	}
	var v any
	_ = json.Unmarshal(kb, &v)
	canon, _ := json.Marshal(map[string]any{"inline_keyboard": v})
	m.canon, m.inline = string(canon), canon
	return m, nil
}

func checkButton(b map[string]json.RawMessage) *apiError {
	var text string
	if err := json.Unmarshal(b["text"], &text); err != nil {
		return badRequest("can't parse inline keyboard button: Field \"text\" must be of type String")
	}
	actions := 0
	for _, a := range []string{"url", "callback_data", "web_app", "login_url", "switch_inline_query",
		"switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text", "callback_game", "pay"} {
		if _, ok := b[a]; ok {
			actions++
		}
	}
	if actions == 0 {
		return badRequest("can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard")
	}
	if raw, ok := b["callback_data"]; ok {
		var data string
		if err := json.Unmarshal(raw, &data); err != nil || len(data) < 1 || len(data) > 64 {
			return badRequest("BUTTON_DATA_INVALID")
		}
	}
	if raw, ok := b["url"]; ok {
		var link string
		_ = json.Unmarshal(raw, &link)
		u, err := url.Parse(link)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "tg") || (u.Scheme != "tg" && u.Host == "") {
			return badRequest("BUTTON_URL_INVALID")
		}
	}
	return nil
}

// chatLocked returns the chat of chat_id, creating it unless StrictChats.
func (s *Server) chatLocked(rq *request) (*chatState, *apiError) {
	v := strings.TrimSpace(rq.params["chat_id"])
	if v == "" {
		return nil, badRequest("chat_id is empty")
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id == 0 {
		return nil, badRequest("chat not found")
	}
	c := s.chats[id]
	if c == nil {
		if s.opts.StrictChats {
			return nil, badRequest("chat not found")
		}
		c = s.newChatLocked(id, nil)
	}
	return c, nil
}

// newChatLocked creates a chat; for a private chat the user names it.
func (s *Server) newChatLocked(id int64, u *User) *chatState {
	c := &chatState{chat: Chat{ID: id}, msgs: map[int]*storedMsg{}}
	switch {
	case id > 0:
		c.chat.Type = "private"
		if u == nil {
			u = defaultUser(id)
		}
		c.chat.FirstName, c.chat.Username = u.FirstName, u.Username
	case id < -1_000_000_000_000:
		c.chat.Type, c.chat.Title = "supergroup", fmt.Sprintf("Supergroup %d", -id)
	default:
		c.chat.Type, c.chat.Title = "group", fmt.Sprintf("Group %d", -id)
	}
	s.chats[id] = c
	return c
}

func defaultUser(id int64) *User {
	return &User{ID: id, FirstName: fmt.Sprintf("User%d", id), Username: fmt.Sprintf("user%d", id)}
}

func (s *Server) botUser() *User {
	return &User{ID: s.botID, IsBot: true, FirstName: s.opts.BotName, Username: s.opts.BotUsername}
}

// appendLocked adds a message to the chat with the next id.
func (s *Server) appendLocked(c *chatState, from *User, bot bool) *storedMsg {
	c.nextID++
	now := time.Now()
	m := &storedMsg{msg: Message{MessageID: c.nextID, From: from, Date: now.Unix(), Chat: c.chat}, bot: bot, sentAt: now}
	c.msgs[c.nextID] = m
	c.order = append(c.order, c.nextID)
	return m
}

// setReplyLocked makes m a reply to message id in the same chat.
func setReplyLocked(c *chatState, m *storedMsg, id int) bool {
	target := c.msgs[id]
	if target == nil || target.deleted {
		return false
	}
	snap := target.msg.clone()
	snap.ReplyToMessage = nil
	m.msg.ReplyToMessage = snap
	m.replyTo = id
	return true
}

// replyTarget reads reply_parameters or the older reply_to_message_id.
func replyTarget(rq *request) (int, bool, *apiError) {
	if raw := rq.params["reply_parameters"]; raw != "" {
		var p struct {
			MessageID                int  `json:"message_id"`
			AllowSendingWithoutReply bool `json:"allow_sending_without_reply"`
		}
		if err := json.Unmarshal([]byte(raw), &p); err != nil {
			return 0, false, badRequest("can't parse reply parameters JSON object")
		}
		return p.MessageID, p.AllowSendingWithoutReply, nil
	}
	id, aerr := rq.intParam("reply_to_message_id", 0)
	return int(id), rq.boolParam("allow_sending_without_reply"), aerr
}

// checkReplyLocked refuses a reply to a missing message unless
// allow_sending_without_reply was set.
func checkReplyLocked(c *chatState, id int, allowWithout bool) *apiError {
	if id == 0 || allowWithout {
		return nil
	}
	if t := c.msgs[id]; t == nil || t.deleted {
		return badRequest("message to be replied not found")
	}
	return nil
}

func (s *Server) getMe(_ context.Context, _ *request) (any, *apiError) {
	u := s.botUser()
	u.CanJoinGroups = true
	return u, nil
}

func (s *Server) sendMessage(_ context.Context, rq *request) (any, *apiError) {
	if rq.params["text"] == "" {
		return nil, badRequest("message text is empty")
	}
	f, aerr := format(rq.params["text"], rq.params["parse_mode"], rq.params["entities"])
	if aerr != nil {
		return nil, aerr
	}
	if f.plain == "" {
		return nil, badRequest("message text is empty")
	}
	if utf16Len(f.plain) > maxTextLen {
		return nil, badRequest("message is too long")
	}
	mk, aerr := checkMarkup(rq.params["reply_markup"])
	if aerr != nil {
		return nil, aerr
	}
	replyTo, allowWithout, aerr := replyTarget(rq)
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, aerr := s.chatLocked(rq)
	if aerr != nil {
		return nil, aerr
	}
	if aerr := checkReplyLocked(c, replyTo, allowWithout); aerr != nil {
		return nil, aerr
	}
	m := s.appendLocked(c, s.botUser(), true)
	setReplyLocked(c, m, replyTo)
	m.setText(f)
	m.setMarkup(mk)
	s.notifyLocked()
	return m.msg.clone(), nil
}

func (m *storedMsg) setText(f formatted) {
	m.raw, m.parseMode = f.raw, f.parseMode
	m.msg.Text, m.msg.Entities = f.plain, f.entities
}

func (m *storedMsg) setCaption(f formatted) {
	m.raw, m.parseMode = f.raw, f.parseMode
	m.msg.Caption, m.msg.CaptionEntities = f.plain, f.entities
}

func (m *storedMsg) setMarkup(mk markup) {
	m.markup, m.canon, m.msg.ReplyMarkup = mk.raw, mk.canon, mk.inline
}

// editableLocked finds the bot message an edit method targets.
func (s *Server) editableLocked(rq *request) (*storedMsg, *apiError) {
	if rq.params["inline_message_id"] != "" {
		return nil, badRequest("MESSAGE_ID_INVALID")
	}
	id, aerr := rq.intParam("message_id", 0)
	if aerr != nil {
		return nil, aerr
	}
	if id == 0 {
		return nil, badRequest("message identifier is not specified")
	}
	chatID, aerr := rq.intParam("chat_id", 0)
	if aerr != nil {
		return nil, badRequest("chat not found")
	}
	c := s.chats[chatID]
	if c == nil {
		return nil, badRequest("chat not found")
	}
	m := c.msgs[int(id)]
	if m == nil || m.deleted {
		return nil, badRequest("message to edit not found")
	}
	if !m.bot {
		return nil, badRequest("message can't be edited")
	}
	return m, nil
}

func (m *storedMsg) edited() {
	m.edits++
	m.editedAt = time.Now()
	m.msg.EditDate = m.editedAt.Unix()
}

func (s *Server) editMessageText(_ context.Context, rq *request) (any, *apiError) {
	if rq.params["text"] == "" {
		return nil, badRequest("message text is empty")
	}
	f, aerr := format(rq.params["text"], rq.params["parse_mode"], rq.params["entities"])
	if aerr != nil {
		return nil, aerr
	}
	if f.plain == "" {
		return nil, badRequest("message text is empty")
	}
	if utf16Len(f.plain) > maxTextLen {
		return nil, badRequest("MESSAGE_TOO_LONG")
	}
	mk, aerr := checkMarkup(rq.params["reply_markup"])
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, aerr := s.editableLocked(rq)
	if aerr != nil {
		return nil, aerr
	}
	if m.media != nil {
		return nil, badRequest("there is no text in the message to edit")
	}
	if m.msg.Text == f.plain && sameEntities(m.msg.Entities, f.entities) && m.canon == mk.canon {
		return nil, badRequest(notModified)
	}
	m.setText(f)
	m.setMarkup(mk)
	m.edited()
	s.notifyLocked()
	return m.msg.clone(), nil
}

func (s *Server) editMessageCaption(_ context.Context, rq *request) (any, *apiError) {
	f, aerr := format(rq.params["caption"], rq.params["parse_mode"], rq.params["caption_entities"])
	if aerr != nil {
		return nil, aerr
	}
	if utf16Len(f.plain) > maxCaptionLen {
		return nil, badRequest("message caption is too long")
	}
	mk, aerr := checkMarkup(rq.params["reply_markup"])
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, aerr := s.editableLocked(rq)
	if aerr != nil {
		return nil, aerr
	}
	if m.media == nil {
		return nil, badRequest("there is no caption in the message to edit")
	}
	if m.msg.Caption == f.plain && sameEntities(m.msg.CaptionEntities, f.entities) && m.canon == mk.canon {
		return nil, badRequest(notModified)
	}
	m.setCaption(f)
	m.setMarkup(mk)
	m.edited()
	s.notifyLocked()
	return m.msg.clone(), nil
}

func (s *Server) editMessageReplyMarkup(_ context.Context, rq *request) (any, *apiError) {
	mk, aerr := checkMarkup(rq.params["reply_markup"])
	if aerr != nil {
		return nil, aerr
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m, aerr := s.editableLocked(rq)
	if aerr != nil {
		return nil, aerr
	}
	if m.canon == mk.canon {
		return nil, badRequest(notModified)
	}
	m.setMarkup(mk)
	m.edited()
	s.notifyLocked()
	return m.msg.clone(), nil
}

func sameEntities(a, b []MessageEntity) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

func (s *Server) deleteMessage(_ context.Context, rq *request) (any, *apiError) {
	id, aerr := rq.intParam("message_id", 0)
	if aerr != nil {
		return nil, aerr
	}
	chatID, aerr := rq.intParam("chat_id", 0)
	if aerr != nil {
		return nil, badRequest("chat not found")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil {
		return nil, badRequest("chat not found")
	}
	m := c.msgs[int(id)]
	if m == nil || m.deleted {
		return nil, badRequest("message to delete not found")
	}
	m.deleted = true
	s.notifyLocked()
	return true, nil
}

func (s *Server) answerCallbackQuery(_ context.Context, rq *request) (any, *apiError) {
	text := rq.params["text"]
	if utf16Len(text) > maxAnswerLen {
		return nil, badRequest("MESSAGE_TOO_LONG")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.queries[rq.params["callback_query_id"]]
	if q == nil || q.answered {
		return nil, badRequest("query is too old and response timeout expired or query ID is invalid")
	}
	q.answered = true
	q.answer = CallbackAnswer{Text: text, ShowAlert: rq.boolParam("show_alert"), URL: rq.params["url"], Time: time.Now()}
	s.notifyLocked()
	return true, nil
}

func validChatAction(a string) bool {
	switch a {
	case "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
		"upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note":
		return true
	}
	return false
}

func (s *Server) sendChatAction(_ context.Context, rq *request) (any, *apiError) {
	if !validChatAction(rq.params["action"]) {
		return nil, badRequest("wrong parameter action in request")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, aerr := s.chatLocked(rq); aerr != nil {
		return nil, aerr
	}
	return true, nil
}

var commandRe = regexp.MustCompile(`^[a-z0-9_]{1,32}$`)

// commandsKey identifies one command list by scope and language.
func commandsKey(scope, lang string) string {
	if scope != "" {
		var v any
		if json.Unmarshal([]byte(scope), &v) == nil {
			b, _ := json.Marshal(v)
			scope = string(b)
		}
	}
	if scope == `{"type":"default"}` {
		scope = ""
	}
	return scope + "|" + lang
}

func (s *Server) setMyCommands(_ context.Context, rq *request) (any, *apiError) {
	var cmds []BotCommand
	if err := json.Unmarshal([]byte(rq.params["commands"]), &cmds); err != nil {
		return nil, badRequest("can't parse commands JSON object")
	}
	if len(cmds) > 100 {
		return nil, badRequest("too many commands")
	}
	for _, c := range cmds {
		if !commandRe.MatchString(c.Command) {
			return nil, badRequest("BOT_COMMAND_INVALID")
		}
		if n := utf8.RuneCountInString(c.Description); n < 1 || n > 256 {
			return nil, badRequest("BOT_COMMAND_DESCRIPTION_INVALID")
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commands[commandsKey(rq.params["scope"], rq.params["language_code"])] = cmds
	s.notifyLocked()
	return true, nil
}

func (s *Server) getMyCommands(_ context.Context, rq *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]BotCommand{}, s.commands[commandsKey(rq.params["scope"], rq.params["language_code"])]...), nil
}

func (s *Server) deleteMyCommands(_ context.Context, rq *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.commands, commandsKey(rq.params["scope"], rq.params["language_code"]))
	s.notifyLocked()
	return true, nil
}

// floodState holds the send times inside the flood windows.
type floodState struct {
	chats  map[int64][]time.Time
	groups map[int64][]time.Time
	global []time.Time
}

// floodCounted are the methods Telegram's flood control counts: sends and
// edits.
func floodCounted(method string) bool {
	switch method {
	case "sendMessage", "sendDocument", "sendVideo", "sendAudio", "sendAnimation",
		"editMessageText", "editMessageCaption", "editMessageReplyMarkup":
		return true
	}
	return false
}

// window drops times older than the window and returns how long to wait
// before one more event fits under limit.
func window(ts []time.Time, now time.Time, span time.Duration, limit int) ([]time.Time, time.Duration) {
	kept := ts[:0]
	for _, t := range ts {
		if now.Sub(t) < span {
			kept = append(kept, t)
		}
	}
	if limit <= 0 || len(kept) < limit {
		return kept, 0
	}
	return kept, kept[len(kept)-limit].Add(span).Sub(now)
}

// checkFlood answers 429 with the time until the call would fit, when flood
// emulation is on and a limit is reached.
func (s *Server) checkFlood(method string, rq *request) *apiError {
	o := s.opts.Flood
	if o == nil || !floodCounted(method) {
		return nil
	}
	chatID, err := strconv.ParseInt(strings.TrimSpace(rq.params["chat_id"]), 10, 64)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	var waits [3]time.Duration
	fs := &s.flood
	fs.chats[chatID], waits[0] = window(fs.chats[chatID], now, time.Second, o.PerChat)
	if chatID < 0 {
		fs.groups[chatID], waits[1] = window(fs.groups[chatID], now, time.Minute, o.PerGroup)
	}
	fs.global, waits[2] = window(fs.global, now, time.Second, o.Global)
	wait := max(waits[0], waits[1], waits[2])
	if wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		return &apiError{code: http.StatusTooManyRequests, desc: fmt.Sprintf("Too Many Requests: retry after %d", secs), retryAfter: secs}
	}
	fs.chats[chatID] = append(fs.chats[chatID], now)
	if chatID < 0 {
		fs.groups[chatID] = append(fs.groups[chatID], now)
	}
	fs.global = append(fs.global, now)
	return nil
}

// commandEntities marks a leading /command (with an optional @bot suffix)
// as a bot_command entity, as Telegram does for incoming messages.
func commandEntities(text string) []MessageEntity {
	if !strings.HasPrefix(text, "/") {
		return nil
	}
	end := 1
	for end < len(text) {
		c := text[end]
		if c == '_' || c == '@' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') {
			end++
			continue
		}
		break
	}
	if end == 1 {
		return nil
	}
	return []MessageEntity{{Type: "bot_command", Offset: 0, Length: utf16Len(text[:end])}}
}
