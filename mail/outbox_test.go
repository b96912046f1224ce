package mail_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	stepmail "github.com/stepgate/stepgate/mail"
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
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if got := msg.Header.Get("To"); !strings.Contains(got, "alice@example.com") {
		t.Errorf("To %q", got)
	}
	if a, err := mail.ParseAddress(msg.Header.Get("From")); err != nil || a.Address != "no-reply@stepgate.test" {
		t.Errorf("From %q", msg.Header.Get("From"))
	}
	if msg.Header.Get("Subject") != "Your sign-in code" {
		t.Errorf("Subject %q", msg.Header.Get("Subject"))
	}
	if d, err := msg.Header.Date(); err != nil || !d.Equal(o.Now().Truncate(time.Second)) {
		t.Errorf("Date %v (%v)", d, err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v)", msg.Header.Get("Content-Type"), err)
	}
	parts := map[string]string{}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		b, _ := io.ReadAll(p)
		parts[pt] = string(b)
	}
	if !strings.Contains(parts["text/plain"], "650021") || !strings.Contains(parts["text/html"], "650021") {
		t.Errorf("code missing from a part: %q", parts)
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
