package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strings"
	"testing"
	"time"
)

// APIClient calls a JSON API with a bearer token, as an API client or a
// script would: JSON bodies in, JSON or RFC 9457 problem+json answers out.
type APIClient struct {
	// BaseURL is prefixed to every path.
	BaseURL string
	// Token, when set, is sent as "Authorization: Bearer <Token>".
	Token string
	// HTTP is the client requests go through; it follows no redirect.
	HTTP *http.Client

	t testing.TB
}

// NewAPIClient calls the API at baseURL with token ("" for none).
func NewAPIClient(t testing.TB, baseURL, token string) *APIClient {
	return &APIClient{BaseURL: strings.TrimSuffix(baseURL, "/"), Token: token, t: t,
		HTTP: &http.Client{Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// API is a client of the server's API, paths relative to its URL.
func (s *Server) API(token string) *APIClient { return NewAPIClient(s.t, s.URL, token) }

// Response is one answer of the API.
type Response struct {
	Status int
	Header http.Header
	// Body is the answer's body as sent.
	Body []byte
	// Problem is the answer's problem details when it is
	// application/problem+json, else nil.
	Problem *Problem

	t      testing.TB
	method string
	path   string
}

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance"`
	// Extensions are the members beyond the five above (field errors, say),
	// undecoded.
	Extensions map[string]json.RawMessage `json:"-"`
}

// Get sends GET path and decodes a 2xx JSON answer into out (unless nil).
func (c *APIClient) Get(path string, out any) *Response {
	c.t.Helper()
	return c.Do(http.MethodGet, path, nil, out)
}

// Post sends in as JSON to path and decodes a 2xx answer into out.
func (c *APIClient) Post(path string, in, out any) *Response {
	c.t.Helper()
	return c.Do(http.MethodPost, path, in, out)
}

// Patch sends in as JSON to path with PATCH and decodes a 2xx answer into out.
func (c *APIClient) Patch(path string, in, out any) *Response {
	c.t.Helper()
	return c.Do(http.MethodPatch, path, in, out)
}

// Delete sends DELETE path and decodes a 2xx answer into out.
func (c *APIClient) Delete(path string, out any) *Response {
	c.t.Helper()
	return c.Do(http.MethodDelete, path, nil, out)
}

// Do sends one request: in, unless nil, as its JSON body ([]byte as it is,
// to send malformed JSON), with the bearer token; a 2xx answer with a body
// is decoded into out unless out is nil. It fails the test when there is no
// answer, or a 2xx body does not decode into out.
func (c *APIClient) Do(method, path string, in, out any) *Response {
	c.t.Helper()
	var body io.Reader
	if in != nil {
		raw, ok := in.([]byte)
		if !ok {
			var err error
			if raw, err = json.Marshal(in); err != nil {
				c.t.Fatalf("%s %s: encoding the body: %v", method, path, err)
			}
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, c.BaseURL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	r := &Response{Status: resp.StatusCode, Header: resp.Header, t: c.t, method: method, path: path}
	if r.Body, err = io.ReadAll(resp.Body); err != nil {
		c.t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt == "application/problem+json" {
		r.Problem = parseProblem(c.t, r.Body)
	}
	if out != nil && r.Status/100 == 2 && len(bytes.TrimSpace(r.Body)) > 0 {
		if err := json.Unmarshal(r.Body, out); err != nil {
			c.t.Fatalf("%s %s: answer %d does not decode into %T: %v\n%s", method, path, r.Status, out, err, r.Body)
		}
	}
	return r
}

func parseProblem(t testing.TB, body []byte) *Problem {
	t.Helper()
	var p Problem
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatalf("a problem+json answer that is not a JSON object: %v\n%s", err, body)
	}
	var all map[string]json.RawMessage
	json.Unmarshal(body, &all)
	for _, k := range []string{"type", "title", "status", "detail", "instance"} {
		delete(all, k)
	}
	if len(all) > 0 {
		p.Extensions = all
	}
	return &p
}

// Want fails the test unless the answer has the status, showing what came
// instead; it returns r, to chain.
func (r *Response) Want(status int) *Response {
	r.t.Helper()
	if r.Status != status {
		r.t.Fatalf("%s %s answered %d, want %d:\n%s", r.method, r.path, r.Status, status, r.Body)
	}
	return r
}

// Extension decodes the problem's extension member name into out; false if
// the answer is not a problem or has no such member.
func (p *Problem) Extension(name string, out any) bool {
	if p == nil {
		return false
	}
	raw, ok := p.Extensions[name]
	return ok && json.Unmarshal(raw, out) == nil
}
