package e2e_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stepgate/stepgate/internal/e2e"
	"github.com/stepgate/stepgate/mfa"
	"github.com/stepgate/stepgate/storage"
)

// workspacePolicy reads the workspace policy from the store.
func workspacePolicy(t *testing.T, srv *e2e.Server) mfa.WorkspacePolicy {
	t.Helper()
	w, err := mfa.LoadWorkspace(t.Context(), srv.Store())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestConsoleWorkspaceSecurityIsTheOwnersAndShowsItsEffectFirst(t *testing.T) {
	for _, eng := range e2e.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			srv, _, email, password, ownerID := consoleServer(t, eng)
			srv.CreateUser("admin@example.com", "admin password 123", "--role", "admin")
			srv.CreateUser(testEmail, testPassword)
			srv.CreateUser("m1@example.com", "member password 1")
			srv.CreateUser("m2@example.com", "member password 2")
			srv.CreateUser("bypass@example.com", "member password 3")
			srv.CLI("user", "set-mfa-bypass", "bypass@example.com", "--on")
			app := srv.CreateClient("--name", "Test App", "--redirect-uri", redirectURI)
			srv.CLI("client", "set-factors", app.ClientID, "--otp=on")
			rp := e2e.NewRP(t, srv, app)
			{ // Alice binds an authenticator at her login to the app.
				ab := e2e.NewBrowser(t, redirectURI)
				f := rp.Start()
				_, p := bindTOTP(t, srv, ab, testEmail, passwordStep(t, ab, f))
				rp.Callback(f, p.Form(e2e.WithButton("I have saved them — continue")).Submit())
			}
			page := srv.URL + "/console/workspace/security"

			t.Run("an admin gets a 403 page and no nav entry", func(t *testing.T) {
				ab, p := openConsole(t, srv, "", "admin@example.com", "admin password 123")
				if _, ok := p.Link("Workspace security"); ok || strings.Contains(p.Body, "/console/workspace/security") {
					t.Errorf("an admin is shown the workspace security page")
				}
				if p := ab.Get(page); p.Status != http.StatusForbidden {
					t.Errorf("GET as an admin: %d", p.Status)
				}
				form := p.Form(e2e.WithAction("/console/sign-out")).Values() // the admin's own CSRF token
				form.Set("mfa_required", "on")
				form.Set("targets", "both")
				form["factors"] = []string{"otp"}
				form.Set("confirm", "yes")
				if p := ab.Post(page, form); p.Status != http.StatusForbidden {
					t.Errorf("POST as an admin: %d", p.Status)
				}
				if workspacePolicy(t, srv).MFARequired {
					t.Error("an admin's POST changed the policy")
				}
			})

			b, p := openConsole(t, srv, "", email, password)
			if _, ok := p.Link("Workspace security"); !ok {
				t.Fatal("the owner has no nav entry for workspace security")
			}

			t.Run("the owner sees how many members will bind before anything changes; Cancel changes nothing", func(t *testing.T) {
				p := b.Get(page).Form(e2e.WithButton("Save")).Check("mfa_required", "on").Set("targets", "both").Submit()
				// The admin, Alice and two members; not the owner or the
				// bypassed user. Alice has an authenticator.
				d := dialog(p)
				if !strings.Contains(d, "apply to 4 users on the console and client applications") ||
					!strings.Contains(d, "3 members have not bound an authenticator; they will bind one at their next login") {
					t.Fatalf("preview %q\n%s", d, p.Body)
				}
				if workspacePolicy(t, srv).MFARequired {
					t.Fatal("the preview changed the policy")
				}
				if evs := srv.Audit(storage.AuditFilter{Type: "workspace.policy.update"}); len(evs) != 0 {
					t.Fatalf("the preview was audited: %+v", evs)
				}
				cancel, _ := p.Link("Cancel")
				if p := b.Get(cancel.String()); dialog(p) != "" || p.Form(e2e.WithButton("Save")).Get("mfa_required") != "" {
					t.Errorf("after Cancel the page shows a change")
				}
			})

			t.Run("Confirm steps up, resumes, and applies the change, audited", func(t *testing.T) {
				p := b.Get(page).Form(e2e.WithButton("Save")).Check("mfa_required", "on").Set("targets", "both").Submit()
				p = p.Form(e2e.WithButton("Confirm")).Submit()
				if workspacePolicy(t, srv).MFARequired {
					t.Fatal("applied before the step-up")
				}
				p = stepUp(t, srv, p, email, password)
				if !strings.Contains(notice(p), "Workspace security saved") {
					t.Fatalf("notice %q\n%s", notice(p), p.Body)
				}
				w := workspacePolicy(t, srv)
				if !w.MFARequired || !w.AppliesTo(true) || !w.AppliesTo(false) || !w.UsesOTP() {
					t.Errorf("stored %+v", w)
				}
				evs := srv.Audit(storage.AuditFilter{Type: "workspace.policy.update"})
				if len(evs) != 1 || evs[0].Actor != "user:"+ownerID {
					t.Errorf("audit %+v", evs)
				}
				if f := p.Form(e2e.WithButton("Save")); f.Get("mfa_required") != "on" {
					t.Errorf("the page shows %v", f.Values())
				}
			})

			t.Run("bad input comes back beside its field and changes nothing", func(t *testing.T) {
				form := b.Get(page).Form(e2e.WithButton("Save")).Values()
				for field, v := range map[string][]string{"targets": {"api"}, "factors": nil, "mfa_required": {"maybe"}} {
					bad := map[string][]string{}
					for k, vs := range form {
						bad[k] = vs
					}
					bad[field] = v
					p := b.Post(page, bad)
					if p.Status != http.StatusOK || dialog(p) != "" || !strings.Contains(p.Body, `class="field-error"`) {
						t.Errorf("%s=%v: %d %q\n%s", field, v, p.Status, dialog(p), p.Body)
					}
				}
				if w := workspacePolicy(t, srv); !w.MFARequired || !slices.Equal(w.EffectiveFactors(), []string{"otp", "email"}) {
					t.Errorf("changed: %+v", w)
				}
			})

			t.Run("a change while an application uses OTP names it and keeps the bindings", func(t *testing.T) {
				p := b.Get(page).Form(e2e.WithButton("Save")).Uncheck("factors", "otp").Submit()
				d := dialog(p)
				if !strings.Contains(d, "Bindings are kept because “Test App” still use OTP") ||
					!strings.Contains(d, "3 members have not bound an authenticator; they will be asked for an email code") {
					t.Fatalf("preview %q", d)
				}
				if !workspacePolicy(t, srv).UsesOTP() {
					t.Fatal("the preview changed the factors")
				}
			})

			t.Run("the change that ends OTP everywhere asks to remove the bindings and does on Confirm", func(t *testing.T) {
				srv.CLI("client", "set-factors", app.ClientID, "--otp=off") // the workspace still uses OTP: kept
				if otpBindings(t, srv) != 1 {
					t.Fatal("Alice's binding went with the app's OTP")
				}
				p := b.Get(page).Form(e2e.WithButton("Save")).Uncheck("factors", "otp").Submit()
				if d := dialog(p); !strings.Contains(d, "1 user has bound OTP") || !strings.Contains(d, "irreversibly") {
					t.Fatalf("dialog %q", d)
				}
				if !workspacePolicy(t, srv).UsesOTP() || otpBindings(t, srv) != 1 {
					t.Fatal("changed before the confirmation")
				}
				p = p.Form(e2e.WithButton("Confirm")).Submit()
				if !strings.Contains(notice(p), "1 authenticator binding was removed") {
					t.Errorf("notice %q", notice(p))
				}
				if w := workspacePolicy(t, srv); w.UsesOTP() || !w.MFARequired || otpBindings(t, srv) != 0 {
					t.Errorf("after Confirm: %+v, %d bindings", w, otpBindings(t, srv))
				}
				evs := srv.Audit(storage.AuditFilter{Type: "mfa.otp.remove"})
				if len(evs) != 1 || evs[0].Actor != "user:"+ownerID {
					t.Errorf("removal audit %+v", evs)
				}
			})
		})
	}
}
