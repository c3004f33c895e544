package messages

import (
	"time"

	"github.com/asynkron/protoactor-go/remote"
)

// Cross-node messages keep their Go structs in process; protoactor's remote
// layer calls Serialize on the sending node and Deserialize on the
// receiving one, so only the Wire* protobuf types (wire.proto) travel.

var (
	_ remote.RootSerializable = (*StartTask)(nil)
	_ remote.RootSerializable = (*CancelTask)(nil)
	_ remote.RootSerializable = (*SelectionPressed)(nil)
	_ remote.RootSerializable = (*CancelAllTasks)(nil)
	_ remote.RootSerializable = (*ResumeTasks)(nil)
	_ remote.RootSerializable = (*TaskUpdated)(nil)
	_ remote.RootSerializable = (*TaskRemoved)(nil)
	_ remote.RootSerializable = (*RepostBoard)(nil)
	_ remote.RootSerializable = (*BoardButtonPressed)(nil)
	_ remote.RootSerializable = (*TasksCancelled)(nil)
	_ remote.RootSerializable = (*CancelByReply)(nil)

	_ remote.RootSerialized = (*WireStartTask)(nil)
	_ remote.RootSerialized = (*WireCancelTask)(nil)
	_ remote.RootSerialized = (*WireSelectionPressed)(nil)
	_ remote.RootSerialized = (*WireCancelAllTasks)(nil)
	_ remote.RootSerialized = (*WireResumeTasks)(nil)
	_ remote.RootSerialized = (*WireTaskUpdated)(nil)
	_ remote.RootSerialized = (*WireTaskRemoved)(nil)
	_ remote.RootSerialized = (*WireRepostBoard)(nil)
	_ remote.RootSerialized = (*WireBoardButtonPressed)(nil)
	_ remote.RootSerialized = (*WireTasksCancelled)(nil)
	_ remote.RootSerialized = (*WireCancelByReply)(nil)
)

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

func specToWire(s TaskSpec) *WireTaskSpec {
	w := &WireTaskSpec{
		Id: s.ID, UserId: s.UserID, ChatId: s.ChatID, ReplyTo: int64(s.ReplyTo), Kind: uint32(s.Kind),
		Source: &WireSource{Url: s.Source.URL}, Name: s.Name, Dest: s.Dest, SplitSize: s.SplitSize,
		Force: s.Force, Privileged: s.Privileged, CreatedUnixNano: unixNano(s.Created),
		Zip: s.Zip, ZipPassword: s.ZipPassword, Extract: s.Extract, ExtractPassword: s.ExtractPassword,
		Select: s.Select, Seed: &WireSeedLimits{Ratio: s.Seed.Ratio, TimeNanos: int64(s.Seed.Time)},
	}
	if f := s.Source.File; f != nil {
		w.Source.File = &WireTelegramFile{FileId: f.FileID, Name: f.Name, Size: f.Size, Mime: f.MIME}
	}
	return w
}

func specFromWire(w *WireTaskSpec) TaskSpec {
	s := TaskSpec{
		ID: w.GetId(), UserID: w.GetUserId(), ChatID: w.GetChatId(), ReplyTo: int(w.GetReplyTo()),
		Kind: Kind(w.GetKind()), Source: Source{URL: w.GetSource().GetUrl()}, Name: w.GetName(),
		Dest: w.GetDest(), SplitSize: w.GetSplitSize(), Force: w.GetForce(), Privileged: w.GetPrivileged(),
		Created: fromUnixNano(w.GetCreatedUnixNano()), Zip: w.GetZip(), ZipPassword: w.GetZipPassword(),
		Extract: w.GetExtract(), ExtractPassword: w.GetExtractPassword(), Select: w.GetSelect(),
		Seed: SeedLimits{Ratio: w.GetSeed().GetRatio(), Time: time.Duration(w.GetSeed().GetTimeNanos())},
	}
	if f := w.GetSource().GetFile(); f != nil {
		s.Source.File = &TelegramFile{FileID: f.GetFileId(), Name: f.GetName(), Size: f.GetSize(), MIME: f.GetMime()}
	}
	return s
}

func snapshotToWire(t TaskSnapshot) *WireTaskSnapshot {
	return &WireTaskSnapshot{
		TaskId: t.TaskID, UserId: t.UserID, Name: t.Name, Kind: uint32(t.Kind), Stage: uint32(t.Stage),
		Engine: t.Engine, Done: t.Done, Total: t.Total, Speed: t.Speed, StartedUnixNano: unixNano(t.Started),
		Node: t.Node, Attempt: int64(t.Attempt), QueuePos: int64(t.QueuePos), Note: t.Note,
		Peers: int64(t.Peers), Seeders: int64(t.Seeders), UpSpeed: t.UpSpeed,
	}
}

func snapshotFromWire(w *WireTaskSnapshot) TaskSnapshot {
	return TaskSnapshot{
		TaskID: w.GetTaskId(), UserID: w.GetUserId(), Name: w.GetName(), Kind: Kind(w.GetKind()),
		Stage: Stage(w.GetStage()), Engine: w.GetEngine(), Done: w.GetDone(), Total: w.GetTotal(),
		Speed: w.GetSpeed(), Started: fromUnixNano(w.GetStartedUnixNano()), Node: w.GetNode(),
		Attempt: int(w.GetAttempt()), QueuePos: int(w.GetQueuePos()), Note: w.GetNote(),
		Peers: int(w.GetPeers()), Seeders: int(w.GetSeeders()), UpSpeed: w.GetUpSpeed(),
	}
}

// Serialize implements remote.RootSerializable.
func (m *StartTask) Serialize() (remote.RootSerialized, error) {
	return &WireStartTask{Spec: specToWire(m.Spec)}, nil
}

// Deserialize implements remote.RootSerialized.
func (w *WireStartTask) Deserialize() (remote.RootSerializable, error) {
	return &StartTask{Spec: specFromWire(w.GetSpec())}, nil
}

// Serialize implements remote.RootSerializable.
func (m *CancelTask) Serialize() (remote.RootSerialized, error) {
	return &WireCancelTask{TaskId: m.TaskID, ByUserId: m.ByUserID, Admin: m.Admin, ChatId: m.ChatID,
		ReplyTo: int64(m.ReplyTo), CallbackId: m.CallbackID}, nil
}

// Deserialize implements remote.RootSerialized.
func (w *WireCancelTask) Deserialize() (remote.RootSerializable, error) {
	return &CancelTask{TaskID: w.GetTaskId(), ByUserID: w.GetByUserId(), Admin: w.GetAdmin(),
		ChatID: w.GetChatId(), ReplyTo: int(w.GetReplyTo()), CallbackID: w.GetCallbackId()}, nil
}

// Serialize implements remote.RootSerializable.
func (m *SelectionPressed) Serialize() (remote.RootSerialized, error) {
	return &WireSelectionPressed{TaskId: m.TaskID, ByUserId: m.ByUserID, ChatId: m.ChatID,
		MessageId: int64(m.MessageID), Data: m.Data, CallbackId: m.CallbackID}, nil
}

// Deserialize implements remote.RootSerialized.
func (w *WireSelectionPressed) Deserialize() (remote.RootSerializable, error) {
	return &SelectionPressed{TaskID: w.GetTaskId(), ByUserID: w.GetByUserId(), ChatID: w.GetChatId(),
		MessageID: int(w.GetMessageId()), Data: w.GetData(), CallbackID: w.GetCallbackId()}, nil
}

// Serialize implements remote.RootSerializable.
func (m *CancelAllTasks) Serialize() (remote.RootSerialized, error) {
	return &WireCancelAllTasks{ByUserId: m.ByUserID, ChatId: m.ChatID, ReplyTo: int64(m.ReplyTo), Admin: m.Admin,
		RequestId: m.RequestID, ReportNode: m.ReportNode}, nil
}

// Deserialize implements remote.RootSerialized.
func (w *WireCancelAllTasks) Deserialize() (remote.RootSerializable, error) {
	return &CancelAllTasks{ByUserID: w.GetByUserId(), ChatID: w.GetChatId(), ReplyTo: int(w.GetReplyTo()),
		Admin: w.GetAdmin(), RequestID: w.GetRequestId(), ReportNode: w.GetReportNode()}, nil
}

// Serialize implements remote.RootSerializable.
func (m *TasksCancelled) Serialize() (remote.RootSerialized, error) {
	return &WireTasksCancelled{RequestId: m.RequestID, UserId: m.UserID, Count: int64(m.Count)}, nil
}

// Deserialize implements remote.RootSerialized.
func (w *WireTasksCancelled) Deserialize() (remote.RootSerializable, error) {
	return &TasksCancelled{RequestID: w.GetRequestId(), UserID: w.GetUserId(), Count: int(w.GetCount())}, nil
}

// Serialize implements remote.RootSerializable.
func (m *ResumeTasks) Serialize() (remote.RootSerialized, error) {
	return &WireResumeTasks{Reason: uint32(m.Reason)}, nil
}

// Deserialize implements remote.RootSerialized.
func (w *WireResumeTasks) Deserialize() (remote.RootSerializable, error) {
	return &ResumeTasks{Reason: ResumeReason(w.GetReason())}, nil
}

// Serialize implements remote.RootSerializable.
func (m *TaskUpdated) Serialize() (remote.RootSerialized, error) {
	return &WireTaskUpdated{ChatId: m.ChatID, Task: snapshotToWire(m.Task)}, nil
}

// Deserialize implements remote.RootSerialized.
func (w *WireTaskUpdated) Deserialize() (remote.RootSerializable, error) {
	return &TaskUpdated{ChatID: w.GetChatId(), Task: snapshotFromWire(w.GetTask())}, nil
}

// Serialize implements remote.RootSerializable.
func (m *TaskRemoved) Serialize() (remote.RootSerialized, error) {
	return &WireTaskRemoved{ChatId: m.ChatID, TaskId: m.TaskID}, nil
}

// Deserialize implements remote.RootSerialized.
func (w *WireTaskRemoved) Deserialize() (remote.RootSerializable, error) {
	return &TaskRemoved{ChatID: w.GetChatId(), TaskID: w.GetTaskId()}, nil
}

// Serialize implements remote.RootSerializable.
func (m *RepostBoard) Serialize() (remote.RootSerialized, error) {
	return &WireRepostBoard{ChatId: m.ChatID, ReplyTo: int64(m.ReplyTo)}, nil
}

// Deserialize implements remote.RootSerialized.
func (w *WireRepostBoard) Deserialize() (remote.RootSerializable, error) {
	return &RepostBoard{ChatID: w.GetChatId(), ReplyTo: int(w.GetReplyTo())}, nil
}

// Serialize implements remote.RootSerializable.
func (m *BoardButtonPressed) Serialize() (remote.RootSerialized, error) {
	return &WireBoardButtonPressed{ChatId: m.ChatID, MessageId: int64(m.MessageID), Data: m.Data,
		CallbackId: m.CallbackID}, nil
}

// Deserialize implements remote.RootSerialized.
func (w *WireBoardButtonPressed) Deserialize() (remote.RootSerializable, error) {
	return &BoardButtonPressed{ChatID: w.GetChatId(), MessageID: int(w.GetMessageId()), Data: w.GetData(),
		CallbackID: w.GetCallbackId()}, nil
}

// Serialize implements remote.RootSerializable.
func (m *CancelByReply) Serialize() (remote.RootSerialized, error) {
	return &WireCancelByReply{ChatId: m.ChatID, MessageId: int64(m.MessageID), ByUserId: m.ByUserID, Admin: m.Admin,
		ReplyTo: int64(m.ReplyTo)}, nil
}

// Deserialize implements remote.RootSerialized.
func (w *WireCancelByReply) Deserialize() (remote.RootSerializable, error) {
	return &CancelByReply{ChatID: w.GetChatId(), MessageID: int(w.GetMessageId()), ByUserID: w.GetByUserId(),
		Admin: w.GetAdmin(), ReplyTo: int(w.GetReplyTo())}, nil
}
