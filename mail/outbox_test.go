package mail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	stepmail "github.com/stepgate/stepgate/mail"
	"github.com/stepgate/stepgate/mail/mailtest"
)

func TestOutboxWritesAPrivateParseableEmlAndLogsTheCode(t *testing.T) {
	dir := t.TempDir()
	var logged bytes.Buffer
	o := stepmail.NewOutbox(dir, from, slog.New(slog.NewJSONHandler(&logged, nil)))
	o.Now = func() time.Time { return time.Date(2025, 5, 1, 14, 30, 0, 123, time.FixedZone("CEST", 2*3600)) }
	o.Rand = bytes.NewReader([]byte{0xde, 0xad, 0xbe, 0xef, 0x01, 0x02})

	m := stepmail.CodeMessage("alice@example.com", stepmail.PurposeLogin, "650021", 10*time.Minute, "StepGate")
	if err := o.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}

	folder := filepath.Join(dir, "outbox")
	if o.Folder() != folder {
		t.Errorf("Folder() = %s", o.Folder())
	}
	entries, err := os.ReadDir(folder)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "20250501T123000.000000123Z-deadbeef0102.eml" {
		t.Fatalf("outbox holds %v", entries)
	}
	path := filepath.Join(folder, entries[0].Name())
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("file mode %v", fi.Mode().Perm())
	}
	if fi, _ := os.Stat(folder); fi.Mode().Perm() != 0o700 {
		t.Errorf("folder mode %v", fi.Mode().Perm())
	}

	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mailtest.ParseMessage(raw)
	if err != nil {
		t.Fatal(err)
	}
	if msg.To != "alice@example.com" || msg.From != "no-reply@stepgate.test" || msg.Subject != "Your sign-in code" {
		t.Errorf("To %q, From %q, Subject %q", msg.To, msg.From, msg.Subject)
	}
	if d, err := msg.Header.Date(); err != nil || !d.Equal(o.Now().Truncate(time.Second)) {
		t.Errorf("Date %v (%v)", d, err)
	}
	if mt, _, err := mime.ParseMediaType(msg.Header.Get("Content-Type")); err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v)", msg.Header.Get("Content-Type"), err)
	}
	if !strings.Contains(msg.Text, "650021") || !strings.Contains(msg.HTML, "650021") {
		t.Errorf("code missing from a part:\ntext: %s\nhtml: %s", msg.Text, msg.HTML)
	}

	var line map[string]any
	if err := json.Unmarshal(logged.Bytes(), &line); err != nil {
		t.Fatalf("log %q: %v", logged.String(), err)
	}
	if line["level"] != "INFO" || line["to"] != "alice@example.com" || line["subject"] != "Your sign-in code" ||
		line["file"] != path || !strings.Contains(line["text"].(string), "650021") {
		t.Errorf("log line %v", line)
	}
}

func TestOutboxTightensAnExistingFolderAndKeepsEveryMessage(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "outbox"), 0o755); err != nil {
		t.Fatal(err)
	}
	o := stepmail.NewOutbox(dir, from, slog.New(slog.NewTextHandler(io.Discard, nil)))
	at := time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	o.Now = func() time.Time { return at } // same instant: the random part keeps names apart
	for i := 0; i < 3; i++ {
		if err := o.Send(context.Background(), stepmail.CodeMessage("a@example.com", stepmail.PurposeLogin, "1", time.Minute, "x")); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "outbox", "*"))
	if len(files) != 3 {
		t.Errorf("files %v", files)
	}
	if fi, _ := os.Stat(filepath.Join(dir, "outbox")); fi.Mode().Perm() != 0o700 {
		t.Errorf("folder mode %v", fi.Mode().Perm())
	}
}

func TestOutboxRejectsBadAddresses(t *testing.T) {
	o := stepmail.NewOutbox(t.TempDir(), from, nil)
	if err := o.Send(context.Background(), stepmail.Message{To: "nobody", Subject: "s", Text: "t"}); err == nil {
		t.Error("accepted a recipient without a domain")
	}
	if err := stepmail.NewOutbox(t.TempDir(), "", nil).Send(context.Background(), stepmail.Message{To: "a@example.com", Text: "t"}); err == nil {
		t.Error("accepted an empty From")
	}
}
