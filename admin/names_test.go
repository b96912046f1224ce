package admin

import (
	"fmt"
	"maps"
	"testing"

	"github.com/stepgate/stepgate/storage"
)

func TestUserEmailsNamesTheUsersThatStillExist(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		now := testT0
		svc := serviceAt(st, &now)
		ada := createUser(t, svc, "ada@example.com", "")
		bob := createUser(t, svc, "bob@example.com", "")
		got, err := svc.UserEmails(t.Context(), []string{ada.ID, "", "gone-user-id", bob.ID, ada.ID})
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]string{ada.ID: "ada@example.com", bob.ID: "bob@example.com"}; !maps.Equal(got, want) {
			t.Errorf("UserEmails = %v, want %v", got, want)
		}
		if got, err := svc.UserEmails(t.Context(), nil); err != nil || len(got) != 0 {
			t.Errorf("no IDs: %v, %v", got, err)
		}
		many := make([]string, storage.MaxPageSize+1)
		for i := range many {
			many[i] = fmt.Sprintf("id-%d", i)
		}
		if _, err := svc.UserEmails(t.Context(), many); err == nil {
			t.Errorf("more IDs than a page holds were looked up one by one")
		}
	})
}

func TestClientNamesMapsEveryClient(t *testing.T) {
	onEngines(t, func(t *testing.T, st storage.Store) {
		now := testT0
		svc := serviceAt(st, &now)
		wiki := newApp(t, svc, "Wiki", false)
		mail := newApp(t, svc, "Mail", true)
		if err := svc.EnsureConsoleClient(t.Context(), "https://login.example"); err != nil {
			t.Fatal(err)
		}
		got, err := svc.ClientNames(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{wiki.Client.ID: "Wiki", mail.Client.ID: "Mail", ConsoleClient: "StepGate console"}
		if !maps.Equal(got, want) {
			t.Errorf("ClientNames = %v, want %v", got, want)
		}
	})
}
