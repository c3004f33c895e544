package tgfake

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// MsgOpt changes a message pushed as if a user sent it.
type MsgOpt func(*msgOptions)

type msgOptions struct {
	replyTo  int
	name     string
	username string
}

// ReplyTo makes the pushed message a reply to messageID in the same chat.
func ReplyTo(messageID int) MsgOpt { return func(o *msgOptions) { o.replyTo = messageID } }

// FromName sets the sender's first name (default "User<id>").
func FromName(firstName string) MsgOpt { return func(o *msgOptions) { o.name = firstName } }

// FromUsername sets the sender's username (default "user<id>").
func FromUsername(username string) MsgOpt { return func(o *msgOptions) { o.username = username } }

func collect(opts []MsgOpt) msgOptions {
	var o msgOptions
	for _, f := range opts {
		f(&o)
	}
	return o
}

func (o msgOptions) user(id int64) *User {
	u := defaultUser(id)
	if o.name != "" {
		u.FirstName = o.name
	}
	if o.username != "" {
		u.Username = o.username
	}
	return u
}

// pushLocked stores a user message and queues its update. fill sets the
// content.
func (s *Server) pushLocked(chatID, fromID int64, o msgOptions, fill func(*Message)) *Message {
	u := o.user(fromID)
	c := s.chats[chatID]
	if c == nil {
		c = s.newChatLocked(chatID, u)
	}
	m := s.appendLocked(c, u, false)
	fill(&m.msg)
	if o.replyTo != 0 && !setReplyLocked(c, m, o.replyTo) {
		s.t.Errorf("tgfake: message %d to reply to is not in chat %d", o.replyTo, chatID)
	}
	s.enqueueLocked(Update{Message: m.msg.clone()})
	s.notifyLocked()
	return m.msg.clone()
}

// enqueueLocked numbers and queues an update unless allowed_updates
// excludes its type, in which case Telegram never creates it.
func (s *Server) enqueueLocked(u Update) {
	if s.allowed != nil && !s.allowed[u.kind()] {
		return
	}
	s.nextUpdateID++
	u.UpdateID = s.nextUpdateID
	s.queue = append(s.queue, u)
}

// PushText delivers a text message from user fromID in chatID (negative for
// a group) and returns it as stored. A leading /command gets its
// bot_command entity.
func (s *Server) PushText(chatID, fromID int64, text string, opts ...MsgOpt) *Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pushLocked(chatID, fromID, collect(opts), func(m *Message) {
		m.Text = text
		m.Entities = commandEntities(text)
	})
}

// PushDocument delivers a document with the given content. The file is
// stored under Dir and can be fetched with getFile and, in cloud mode, GET
// /file/bot<token>/<file_path>. It fails the test if the file cannot be
// written, so call it from the test goroutine.
func (s *Server) PushDocument(chatID, fromID int64, name string, data []byte, caption string, opts ...MsgOpt) *Message {
	s.t.Helper()
	s.mu.Lock()
	s.nextFile++
	n := s.nextFile
	s.mu.Unlock()
	rel := fmt.Sprintf("documents/file_%d%s", n, safeExt(name))
	disk := filepath.Join(s.dir, "files", filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(disk), 0o755); err != nil {
		s.t.Fatalf("tgfake: storing pushed document: %v", err)
	}
	if err := os.WriteFile(disk, data, 0o644); err != nil {
		s.t.Fatalf("tgfake: storing pushed document: %v", err)
	}
	return s.pushFile(chatID, fromID, name, rel, disk, int64(len(data)), caption, opts)
}

// PushDocumentFile delivers the file at path as a document without copying
// it, for large files. In local mode getFile returns path itself.
func (s *Server) PushDocumentFile(chatID, fromID int64, path, caption string, opts ...MsgOpt) *Message {
	s.t.Helper()
	abs, err := filepath.Abs(path)
	if err != nil {
		s.t.Fatalf("tgfake: pushing %s: %v", path, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		s.t.Fatalf("tgfake: pushing %s: %v", path, err)
	}
	s.mu.Lock()
	s.nextFile++
	n := s.nextFile
	s.mu.Unlock()
	rel := fmt.Sprintf("documents/file_%d%s", n, safeExt(abs))
	return s.pushFile(chatID, fromID, filepath.Base(abs), rel, abs, st.Size(), caption, opts)
}

func (s *Server) pushFile(chatID, fromID int64, name, rel, disk string, size int64, caption string, opts []MsgOpt) *Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.registerLocked(&fileRecord{name: name, mime: mimeOf(name), size: size, disk: disk, rel: rel})
	return s.pushLocked(chatID, fromID, collect(opts), func(m *Message) {
		m.Document = rec.document()
		m.Caption = caption
	})
}

// PushCallback delivers a press of an inline button with data on the bot's
// message messageID and returns the callback query id. For a deleted or
// unknown message the update carries an inaccessible message (date 0), as
// Telegram sends for old messages. FromName and FromUsername apply; ReplyTo
// is ignored.
func (s *Server) PushCallback(chatID, fromID int64, messageID int, data string, opts ...MsgOpt) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.chats[chatID]
	if c == nil {
		c = s.newChatLocked(chatID, nil)
	}
	msg := &Message{MessageID: messageID, Chat: c.chat}
	if m := c.msgs[messageID]; m != nil && !m.deleted {
		msg = m.msg.clone()
	}
	s.nextQuery++
	id := strconv.FormatInt(fromID<<20+s.nextQuery, 10)
	s.queries[id] = &queryState{}
	s.enqueueLocked(Update{CallbackQuery: &CallbackQuery{
		ID: id, From: *collect(opts).user(fromID), Message: msg,
		ChatInstance: strconv.FormatInt(chatID*7919+104729, 10), Data: data,
	}})
	s.notifyLocked()
	return id
}

// confirmLocked applies getUpdates' offset: a positive offset forgets every
// earlier update, a negative one keeps only the last -offset updates.
func (s *Server) confirmLocked(offset int64) {
	switch {
	case offset > 0:
		i := 0
		for i < len(s.queue) && int64(s.queue[i].UpdateID) < offset {
			i++
		}
		s.queue = s.queue[i:]
	case offset < 0:
		if keep := int(-offset); keep < len(s.queue) {
			s.queue = s.queue[len(s.queue)-keep:]
		}
	}
}

func (s *Server) getUpdates(ctx context.Context, rq *request) (any, *apiError) {
	offset, aerr := rq.intParam("offset", 0)
	if aerr != nil {
		return nil, aerr
	}
	limit, aerr := rq.intParam("limit", 100)
	if aerr != nil {
		return nil, aerr
	}
	timeout, aerr := rq.intParam("timeout", 0)
	if aerr != nil {
		return nil, aerr
	}
	limit = min(max(limit, 1), 100)
	wait := min(time.Duration(max(timeout, 0))*time.Second, maxPollWait)
	var allowed map[string]bool
	setAllowed := false
	if raw := rq.params["allowed_updates"]; raw != "" {
		var list []string
		if err := json.Unmarshal([]byte(raw), &list); err != nil {
			return nil, badRequest("can't parse allowed updates JSON array")
		}
		setAllowed = true
		for _, k := range list {
			if allowed == nil {
				allowed = map[string]bool{}
			}
			allowed[k] = true
		}
	}

	s.mu.Lock()
	if setAllowed {
		s.allowed = allowed
	}
	if s.poll != nil {
		close(s.poll.kicked)
	}
	me := &poller{kicked: make(chan struct{})}
	s.poll = me
	s.confirmLocked(offset)
	s.notifyLocked()
	timer := time.NewTimer(wait)
	defer timer.Stop()
	expired := wait == 0
	for {
		if s.poll != me {
			// A newer getUpdates took over while this one waited.
			s.mu.Unlock()
			if ctx.Err() != nil {
				return nil, &apiError{gone: true}
			}
			return nil, &apiError{code: http.StatusConflict,
				desc: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}
		}
		if len(s.queue) > 0 || expired {
			out := append([]Update{}, s.queue[:min(int(limit), len(s.queue))]...)
			if s.poll == me {
				s.poll = nil
			}
			s.mu.Unlock()
			return out, nil
		}
		ch := s.changed
		s.mu.Unlock()
		select {
		case <-ch:
		case <-timer.C:
			expired = true
		case <-s.done:
			expired = true
		case <-me.kicked:
		case <-ctx.Done():
			s.mu.Lock()
			if s.poll == me {
				s.poll = nil
			}
			s.mu.Unlock()
			return nil, &apiError{gone: true}
		}
		s.mu.Lock()
	}
}

// deleteWebhook answers as Telegram does for a bot without a webhook; the
// fake does not emulate webhooks, so there is never one to delete.
func (s *Server) deleteWebhook(_ context.Context, rq *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if rq.boolParam("drop_pending_updates") {
		s.queue = nil
		s.notifyLocked()
	}
	return described{result: true, desc: "Webhook is already deleted"}, nil
}

func (s *Server) getWebhookInfo(_ context.Context, _ *request) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return map[string]any{"url": "", "has_custom_certificate": false, "pending_update_count": len(s.queue)}, nil
}
