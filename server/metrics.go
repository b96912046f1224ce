package server

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/stepgate/stepgate/metrics"
)

// observeRequests records every request's latency under its route: gin's
// route template, or for the provider's endpoints (which the library's
// router serves behind gin's NoRoute) their path, from the fixed set
// libraryRoutes. Any other path is one route, "unmatched", so no request
// can add a series. Latency is measured on the real clock: it decides
// nothing.
func observeRequests(m *metrics.Metrics, libraryRoutes map[string]bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		start, path := time.Now(), c.Request.URL.Path
		c.Next()
		route := c.FullPath()
		if route == "" && libraryRoutes[path] {
			route = path
		}
		m.Request(route, c.Request.Method, c.Writer.Status(), time.Since(start))
	}
}

// countGrants records each token request by its grant type and by what the
// client was answered: success, or the OAuth error code of the response.
// It reads the answer as written, after the library and the failure
// handling (op/failure.go) had their say, so it counts what clients saw.
func countGrants(m *metrics.Metrics, tokenPath string) gin.HandlerFunc {
	return func(c *gin.Context) {
		if c.Request.URL.Path != tokenPath || c.Request.Method != http.MethodPost {
			c.Next()
			return
		}
		grantType := peekGrantType(c.Request)
		w := &grantWriter{ResponseWriter: c.Writer}
		c.Writer = w
		c.Next()
		m.TokenGrant(grantType, w.result())
	}
}

// maxPeek bounds how much of a token request's body is read to find its
// grant type; a real one is a few hundred bytes.
const maxPeek = 64 << 10

// peekGrantType finds the grant_type the library will read
// (Request.FormValue: the form body first, then the query) without taking
// the body from it: what is read is put back in front of the rest.
func peekGrantType(r *http.Request) string {
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); r.Body != nil && mt == "application/x-www-form-urlencoded" {
		head, err := io.ReadAll(io.LimitReader(r.Body, maxPeek))
		r.Body = readCloser{io.MultiReader(bytes.NewReader(head), r.Body), r.Body}
		if err == nil && len(head) < maxPeek {
			// As net/http does, a malformed pair is skipped, not fatal.
			if v, _ := url.ParseQuery(string(head)); v.Has("grant_type") {
				return v.Get("grant_type")
			}
		}
	}
	return r.URL.Query().Get("grant_type")
}

type readCloser struct {
	io.Reader
	io.Closer
}

// grantWriter keeps the start of an error response, where the OAuth error
// code is.
type grantWriter struct {
	gin.ResponseWriter
	errBody []byte
}

const maxErrBody = 1 << 10

func (w *grantWriter) keep(p []byte) {
	if w.Status() >= 400 && len(w.errBody) < maxErrBody {
		w.errBody = append(w.errBody, p[:min(len(p), maxErrBody-len(w.errBody))]...)
	}
}

func (w *grantWriter) Write(p []byte) (int, error) {
	w.keep(p)
	return w.ResponseWriter.Write(p)
}

func (w *grantWriter) WriteString(s string) (int, error) {
	w.keep([]byte(s))
	return w.ResponseWriter.WriteString(s)
}

// result is success for a 200, else the error code the body carries ("" if
// none, which metrics records as other).
func (w *grantWriter) result() string {
	if w.Status() == http.StatusOK {
		return metrics.ResultSuccess
	}
	var body struct {
		Error string `json:"error"`
	}
	json.Unmarshal(w.errBody, &body)
	return body.Error
}
