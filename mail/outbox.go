package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"time"
)

// Outbox is the --dev Sender, for running without a mail server. It delivers
// nothing: each message is written to Dir/outbox/<UTC time>-<random>.eml
// (file 0600, folder 0700) and logged at Info level WITH ITS TEXT BODY, so a
// developer can read a one-time code from the console.
//
// Development only: the log and the folder hold live codes.
type Outbox struct {
	Dir    string // the data directory; messages go to Dir/outbox
	From   string
	Logger *slog.Logger     // slog.Default() when nil
	Now    func() time.Time // time.Now when nil
	Rand   io.Reader        // for the file name; crypto/rand when nil
}

// NewOutbox writes under dataDir/outbox and logs to logger (nil means
// slog.Default()).
func NewOutbox(dataDir, from string, logger *slog.Logger) *Outbox {
	return &Outbox{Dir: dataDir, From: from, Logger: logger}
}

// Folder is where the .eml files go.
func (o *Outbox) Folder() string { return filepath.Join(o.Dir, "outbox") }

// Send writes m as an RFC 5322 file and logs it.
func (o *Outbox) Send(ctx context.Context, m Message) error {
	if o.Dir == "" {
		return errors.New("mail: outbox has no directory")
	}
	now, random, logger := time.Now, io.Reader(rand.Reader), slog.Default()
	if o.Now != nil {
		now = o.Now
	}
	if o.Rand != nil {
		random = o.Rand
	}
	if o.Logger != nil {
		logger = o.Logger
	}
	at := now().UTC()
	msg, err := m.build(o.From, at)
	if err != nil {
		return err
	}
	suffix := make([]byte, 6)
	if _, err := io.ReadFull(random, suffix); err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	dir := o.Folder()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	if err := os.Chmod(dir, 0o700); err != nil { // it may predate us
		return fmt.Errorf("mail: outbox: %w", err)
	}
	// Written under a temporary name (CreateTemp makes it 0600) and renamed,
	// so a watcher never sees half a message.
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if _, err := msg.WriteTo(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("mail: outbox: writing message: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	name := filepath.Join(dir, at.Format("20060102T150405.000000000Z")+"-"+hex.EncodeToString(suffix)+".eml")
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("mail: outbox: %w", err)
	}
	logger.InfoContext(ctx, "dev outbox: message not sent, written to file",
		"to", m.To, "subject", m.Subject, "file", name, "text", m.Text)
	return nil
}
