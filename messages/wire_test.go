package messages_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/asynkron/protoactor-go/remote"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/mirrorleech/mirrorleech/messages"
)

// fill sets every field of v (recursively) to a distinct non-zero value, so
// a field added to a Go struct but forgotten in its wire form fails the
// round trip below.
func fill(t *testing.T, v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.Struct:
		if v.Type() == reflect.TypeOf(time.Time{}) {
			v.Set(reflect.ValueOf(time.Unix(1700000000, int64(*n)).Local()))
			return
		}
		for i := 0; i < v.NumField(); i++ {
			fill(t, v.Field(i), n)
		}
	case reflect.Pointer:
		v.Set(reflect.New(v.Type().Elem()))
		fill(t, v.Elem(), n)
	case reflect.String:
		v.SetString("s" + string(rune('a'+*n%26)))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64, reflect.Int32:
		v.SetInt(int64(*n) + 100)
	case reflect.Uint8, reflect.Uint32:
		v.SetUint(uint64(*n%5) + 1)
	case reflect.Float64:
		v.SetFloat(float64(*n) + 0.5)
	default:
		t.Fatalf("fill: unsupported field kind %s", v.Kind())
	}
}

func TestWireRoundTrip(t *testing.T) {
	for _, m := range []remote.RootSerializable{
		&messages.StartTask{}, &messages.CancelTask{}, &messages.SelectionPressed{}, &messages.CancelAllTasks{},
		&messages.ResumeTasks{}, &messages.TaskUpdated{}, &messages.TaskRemoved{}, &messages.RepostBoard{},
		&messages.BoardButtonPressed{}, &messages.TasksCancelled{}, &messages.CancelByReply{},
	} {
		name := reflect.TypeOf(m).Elem().Name()
		t.Run(name, func(t *testing.T) {
			n := 0
			fill(t, reflect.ValueOf(m).Elem(), &n)
			w, err := m.Serialize()
			require.NoError(t, err)
			pm, ok := w.(proto.Message)
			require.True(t, ok, "the wire form must be a protobuf message")
			b, err := proto.Marshal(pm)
			require.NoError(t, err)
			back := pm.ProtoReflect().New().Interface()
			require.NoError(t, proto.Unmarshal(b, back))
			got, err := back.(remote.RootSerialized).Deserialize()
			require.NoError(t, err)
			require.Equal(t, m, got)
		})
	}
}

// An empty wire message (a field a newer node did not send) decodes to the
// zero Go struct instead of failing or panicking.
func TestWireEmpty(t *testing.T) {
	got, err := (&messages.WireStartTask{}).Deserialize()
	require.NoError(t, err)
	require.Equal(t, &messages.StartTask{}, got)
	got, err = (&messages.WireTaskUpdated{}).Deserialize()
	require.NoError(t, err)
	require.Equal(t, &messages.TaskUpdated{}, got)
}
