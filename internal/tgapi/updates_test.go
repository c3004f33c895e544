package tgapi

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const updatesJSON = `[
 {"update_id": 10, "message": {"message_id": 100, "date": 1700000000, "message_thread_id": 4,
   "chat": {"id": -1001, "type": "supergroup", "title": "g"},
   "from": {"id": 55, "is_bot": false, "first_name": "Ann", "username": "ann"},
   "text": "/leech https://example.com/a.iso",
   "reply_to_message": {"message_id": 90, "date": 1699999000, "chat": {"id": -1001, "type": "supergroup"},
     "from": {"id": 56, "is_bot": false, "first_name": "Bob"},
     "document": {"file_id": "F1", "file_unique_id": "U1", "file_name": "a.zip", "mime_type": "application/zip", "file_size": 1234}}}},
 {"update_id": 11, "message": {"message_id": 101, "date": 1700000001,
   "chat": {"id": 55, "type": "private", "first_name": "Ann"},
   "from": {"id": 55, "is_bot": false, "first_name": "Ann"},
   "caption": "here", "document": {"file_id": "F2", "file_unique_id": "U2", "file_name": "b.mkv", "file_size": 99}}},
 {"update_id": 12, "callback_query": {"id": "cb1", "chat_instance": "x", "data": "cancel:7",
   "from": {"id": 55, "is_bot": false, "first_name": "Ann"},
   "message": {"message_id": 200, "date": 1700000002, "chat": {"id": 55, "type": "private"}, "text": "status"}}},
 {"update_id": 13, "edited_message": {"message_id": 100, "date": 1700000000, "chat": {"id": 55, "type": "private"}, "text": "e"}},
 {"update_id": 14, "callback_query": {"id": "cb2", "chat_instance": "y", "data": "x",
   "from": {"id": 57, "is_bot": false, "first_name": "C"},
   "message": {"message_id": 300, "date": 0, "chat": {"id": 58, "type": "private"}}}}
]`

func checkUpdates(t *testing.T, ups []Update) {
	t.Helper()
	require.Len(t, ups, 5)

	m := ups[0].Message
	require.Equal(t, 10, ups[0].ID)
	require.Nil(t, ups[0].Callback)
	require.NotNil(t, m)
	require.Equal(t, 100, m.ID)
	require.Equal(t, int64(-1001), m.ChatID)
	require.Equal(t, "supergroup", m.ChatType)
	require.Equal(t, 4, m.ThreadID)
	require.Equal(t, User{ID: 55, Username: "ann", FirstName: "Ann"}, m.From)
	require.Equal(t, "/leech https://example.com/a.iso", m.Text)
	require.Equal(t, time.Unix(1700000000, 0), m.Date)
	require.NotNil(t, m.ReplyTo)
	require.Equal(t, 90, m.ReplyTo.ID)
	require.Equal(t, int64(56), m.ReplyTo.From.ID)
	require.Equal(t, &Document{FileID: "F1", FileName: "a.zip", MimeType: "application/zip", Size: 1234}, m.ReplyTo.Document)

	m = ups[1].Message
	require.NotNil(t, m)
	require.Equal(t, "private", m.ChatType)
	require.Equal(t, "here", m.Caption)
	require.Nil(t, m.ReplyTo)
	require.Equal(t, &Document{FileID: "F2", FileName: "b.mkv", Size: 99}, m.Document)

	require.Nil(t, ups[2].Message)
	require.Equal(t, &Callback{ID: "cb1", From: User{ID: 55, FirstName: "Ann"}, ChatID: 55, MessageID: 200, Data: "cancel:7"}, ups[2].Callback)

	require.Equal(t, Update{ID: 13}, ups[3], "other kinds keep only their ID")

	// An inaccessible message (date 0) still names its chat and ID.
	require.Equal(t, &Callback{ID: "cb2", From: User{ID: 57, FirstName: "C"}, ChatID: 58, MessageID: 300, Data: "x"}, ups[4].Callback)
}

func TestGetUpdates(t *testing.T) {
	api := newFakeAPI(t)
	got := make(chan map[string]any, 1)
	api.handle("getUpdates", func(w http.ResponseWriter, r *http.Request) {
		got <- readJSON(t, r)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true,"result":` + updatesJSON + `}`))
	})
	ups, err := api.client(false).GetUpdates(context.Background(), 10, 2*time.Second)
	require.NoError(t, err)
	checkUpdates(t, ups)
	require.Equal(t, map[string]any{
		"offset":          float64(10),
		"limit":           float64(100),
		"timeout":         float64(2),
		"allowed_updates": []any{"message", "callback_query"},
	}, <-got)
}

func TestGetUpdatesClampsTimeout(t *testing.T) {
	api := newFakeAPI(t)
	got := make(chan map[string]any, 1)
	api.handle("getUpdates", func(w http.ResponseWriter, r *http.Request) {
		got <- readJSON(t, r)
		writeOK(w, []any{})
	})
	ups, err := api.client(false).GetUpdates(context.Background(), 0, 5*time.Minute)
	require.NoError(t, err)
	require.Empty(t, ups)
	require.Equal(t, float64(50), (<-got)["timeout"])
}

// An update telego cannot decode (here a forward origin type it does not
// know) must not block the queue: the others are decoded and its ID kept.
func TestGetUpdatesSurvivesUndecodableUpdate(t *testing.T) {
	var good []json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(updatesJSON), &good))
	poison := json.RawMessage(`{"update_id": 15, "message": {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"},
		"text": "fwd", "forward_origin": {"type": "from_the_future", "date": 1}}}`)
	batch, err := json.Marshal(append(good, poison))
	require.NoError(t, err)

	api := newFakeAPI(t)
	api.handle("getUpdates", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok":true,"result":` + string(batch) + `}`))
	})
	var logs syncBuffer
	c, err := New(Options{Token: testToken, APIURL: api.srv.URL, Logger: debugLogger(&logs)})
	require.NoError(t, err)
	defer c.Close()
	ups, err := c.GetUpdates(context.Background(), 0, 0)
	require.NoError(t, err)
	require.Len(t, ups, 6)
	checkUpdates(t, ups[:5])
	require.Equal(t, Update{ID: 15}, ups[5])
	require.Contains(t, logs.String(), "update_id=15")
}

func TestGetUpdatesConflict(t *testing.T) {
	api := newFakeAPI(t)
	api.fail("getUpdates", 409, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running", 0)
	_, err := api.client(false).GetUpdates(context.Background(), 0, 0)
	var ae *APIError
	require.ErrorAs(t, err, &ae)
	require.Equal(t, 409, ae.Code)
	require.Equal(t, "getUpdates", ae.Method)
	require.False(t, IsTransient(err))
}
