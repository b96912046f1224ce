package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stepgate/stepgate/internal/clock"
	"github.com/stepgate/stepgate/keys"
	"github.com/stepgate/stepgate/mail"
	"github.com/stepgate/stepgate/migrations"
	"github.com/stepgate/stepgate/server"
	"github.com/stepgate/stepgate/storage"
	"github.com/stepgate/stepgate/storage/sqlstore"
)

// TestNewServesFromValuesOnOneClock: another package builds the whole
// server from values, it answers its health checks and discovery, and the
// key manager reads the server's clock.
func TestNewServesFromValuesOnOneClock(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	log := slog.New(slog.DiscardHandler)
	st, err := sqlstore.Open(ctx, "sqlite://"+dir+"/stepgate.db")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := migrations.Up(ctx, st.DB(), st.Dialect(), time.Now); err != nil {
		t.Fatal(err)
	}
	master, err := keys.LoadMasterKey(keys.MasterKeySource{Dev: true, DataDir: dir}, log)
	if err != nil {
		t.Fatal(err)
	}
	alg, _ := keys.ParseAlgorithm("RS256")
	km := &keys.Manager{Store: st, MasterKey: master, Algorithm: alg, TokenLifetime: time.Hour}
	var c clock.Fake
	c.Advance(48 * time.Hour)
	srv, err := server.New(server.Deps{
		Config: server.Config{
			Issuer: "http://127.0.0.1:1", Dev: true,
			AccessTokenLifetime: 15 * time.Minute, IDTokenLifetime: time.Hour, RefreshLifetime: 24 * time.Hour,
			SessionIdle: 30 * time.Minute, SessionAbsolute: 12 * time.Hour, TOTPIssuer: "StepGate",
			MFALockout:      storage.Lockout{Threshold: 6, Duration: time.Hour},
			PasswordLockout: storage.Lockout{Threshold: 10, Duration: 15 * time.Minute},
			PasswordIPLimit: 50, PasswordIPWindow: 10 * time.Minute,
		},
		Store: st, Database: st, Keys: km, Master: master,
		Mailer: mail.NewOutbox(dir, "StepGate <no-reply@stepgate.localhost>", log), Log: log, Now: c.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := km.EnsureKey(ctx); err != nil {
		t.Fatal(err)
	}
	list, err := km.List(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("keys: %v %v", list, err)
	}
	if ahead := list[0].CreatedAt.Sub(time.Now()); ahead < 47*time.Hour {
		t.Errorf("signing key created %s from the real time, want the server's clock (48h ahead)", ahead)
	}
	for path, want := range map[string]string{
		"/healthz": "ok", "/readyz": "ready", "/.well-known/openid-configuration": `"issuer":"http://127.0.0.1:1"`,
	} {
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != http.StatusOK || !strings.Contains(string(body), want) {
			t.Errorf("GET %s = %d %q, want 200 with %q", path, rec.Code, body, want)
		}
		if rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("GET %s without nosniff", path)
		}
	}
}
