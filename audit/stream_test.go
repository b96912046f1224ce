package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/storage"
)

func streamEvents(n int) []storage.AuditEvent {
	out := make([]storage.AuditEvent, n)
	for i := range out {
		out[i] = storage.AuditEvent{ID: int64(n - i), At: time.Date(2025, 5, 1, 12, 0, i, 5_000_000, time.UTC),
			Type: "mfa.otp.verify", UserAgent: "<b>&amp;</b> \u2028", Result: storage.ResultSuccess, Detail: "=1+1"}
	}
	return out
}

// The streaming JSON is what encoding the whole array at once gives, so
// the CLI's output and an export of any size are the same document.
func TestJSONWriterWritesTheArrayTheEncoderWould(t *testing.T) {
	for _, n := range []int{0, 1, 3} {
		events := streamEvents(n)
		want := &bytes.Buffer{}
		all := make([]jsonEvent, len(events))
		for i := range events {
			all[i] = toJSONEvent(&events[i])
		}
		enc := json.NewEncoder(want)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(all); err != nil {
			t.Fatal(err)
		}
		got := &bytes.Buffer{}
		w := NewJSONWriter(got)
		for i := range events {
			if err := w.Write(&events[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%d events:\n got %q\nwant %q", n, got, want)
		}
	}
}

type failAfter struct {
	n   int
	err error
}

func (f *failAfter) Write(p []byte) (int, error) {
	if f.n--; f.n < 0 {
		return 0, f.err
	}
	return len(p), nil
}

func TestWritersReportTheWritersError(t *testing.T) {
	gone := errors.New("client went away")
	ev := streamEvents(1)[0]
	jw := NewJSONWriter(&failAfter{n: 0, err: gone})
	if err := jw.Write(&ev); !errors.Is(err, gone) {
		t.Errorf("JSON Write = %v", err)
	}
	cw := NewCSVWriter(&failAfter{n: 0, err: gone})
	cw.Write(&ev)
	if err := cw.Close(); !errors.Is(err, gone) {
		t.Errorf("CSV Close = %v", err)
	}
}

func TestCSVWriterHeadsAnEmptyExport(t *testing.T) {
	var buf bytes.Buffer
	if err := NewCSVWriter(&buf).Close(); err != nil {
		t.Fatal(err)
	}
	if buf.String() != strings.Join(CSVHeader, ",")+"\n" {
		t.Errorf("%q", buf.String())
	}
}
