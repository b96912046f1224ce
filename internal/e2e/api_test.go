package e2e

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// apiFixture answers like the coming admin API: it echoes a request's
// method, token and body as JSON, and answers /missing with problem+json.
func apiFixture(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/missing" {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			io.WriteString(w, `{"type":"about:blank","title":"Invalid input","status":422,"detail":"name is required",`+
				`"errors":[{"field":"name","message":"required"}]}`)
			return
		}
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusCreated)
		}
		json.NewEncoder(w).Encode(map[string]string{"method": r.Method, "path": r.URL.Path,
			"auth": r.Header.Get("Authorization"), "type": r.Header.Get("Content-Type"), "body": string(body)})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestTheAPIClientSendsJSONWithTheTokenAndReadsProblems(t *testing.T) {
	srv := apiFixture(t)
	c := NewAPIClient(t, srv.URL+"/", "tok")
	var got map[string]string
	for _, call := range []struct {
		method string
		do     func() *Response
		status int
		body   string
	}{
		{"GET", func() *Response { return c.Get("/v1/users", &got) }, 200, ""},
		{"POST", func() *Response { return c.Post("/v1/users", map[string]string{"email": "a@b.c"}, &got) }, 201, `{"email":"a@b.c"}`},
		{"PATCH", func() *Response { return c.Patch("/v1/users/u1", map[string]bool{"disabled": true}, &got) }, 200, `{"disabled":true}`},
		{"DELETE", func() *Response { return c.Delete("/v1/users/u1", &got) }, 200, ""},
		{"POST", func() *Response { return c.Post("/v1/raw", []byte(`{not json`), &got) }, 201, `{not json`},
	} {
		got = nil
		r := call.do().Want(call.status)
		wantType := ""
		if call.body != "" {
			wantType = "application/json"
		}
		if got["method"] != call.method || got["auth"] != "Bearer tok" || got["body"] != call.body || got["type"] != wantType ||
			r.Problem != nil {
			t.Errorf("%s: the server saw %v (problem %v)", call.method, got, r.Problem)
		}
	}

	got = nil
	r := c.Post("/v1/missing", map[string]string{}, &got)
	if r.Status != 422 || got != nil || r.Problem == nil || r.Problem.Title != "Invalid input" || r.Problem.Status != 422 ||
		r.Problem.Detail != "name is required" {
		t.Fatalf("problem answer: %d %+v, decoded %v", r.Status, r.Problem, got)
	}
	var fields []struct{ Field, Message string }
	if !r.Problem.Extension("errors", &fields) || len(fields) != 1 || fields[0].Field != "name" {
		t.Errorf("field errors %v", fields)
	}
	if r.Problem.Extension("nope", &fields) {
		t.Error("an extension the problem does not have")
	}

	got = nil
	NewAPIClient(t, srv.URL, "").Get("/v1/users", &got).Want(http.StatusOK)
	if got["auth"] != "" {
		t.Errorf("no token, yet Authorization %q", got["auth"])
	}
}
