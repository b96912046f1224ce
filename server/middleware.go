package server

import (
	"context"
	"log/slog"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
)

// securityHeaders sets what every response needs: no MIME sniffing
// anywhere, and no caching of token responses (RFC 6749 §5.1).
func securityHeaders(tokenPath string) gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if c.Request.URL.Path == tokenPath {
			h.Set("Cache-Control", "no-store")
			h.Set("Pragma", "no-cache")
		}
		c.Next()
	}
}

// recovery answers a panic with a bare 500 and logs it, with the stack,
// through the server's logger (gin's own recovery prints plain text).
func recovery(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.ErrorContext(c.Request.Context(), "panic serving request", "path", c.Request.URL.Path,
					"panic", v, "stack", string(debug.Stack()))
				c.AbortWithStatus(http.StatusInternalServerError)
			}
		}()
		c.Next()
	}
}

// The OIDC library logs through slog's default logger (its WithLogger
// options are no-ops since v3.4x). routeLibraryLogs makes that default a
// handler that writes each record with the logger of the server handling
// the request (there is one per process, except in tests), so every line
// has the server's format and level.
func routeLibraryLogs(log *slog.Logger) gin.HandlerFunc {
	libraryLogsOnce.Do(func() { slog.SetDefault(slog.New(&routingHandler{})) })
	fallbackLogger.Store(log)
	return func(c *gin.Context) {
		c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), loggerKey{}, log))
		c.Next()
	}
}

var (
	libraryLogsOnce sync.Once
	fallbackLogger  atomic.Pointer[slog.Logger] // the last server's, for records without a request
)

type loggerKey struct{}

// routingHandler picks the handler per record; With* are replayed on it.
type routingHandler struct {
	with []func(slog.Handler) slog.Handler
}

func (h *routingHandler) target(ctx context.Context) slog.Handler {
	l, _ := ctx.Value(loggerKey{}).(*slog.Logger)
	if l == nil {
		l = fallbackLogger.Load()
	}
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	out := l.Handler()
	for _, w := range h.with {
		out = w(out)
	}
	return out
}

func (h *routingHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.target(ctx).Enabled(ctx, level)
}

func (h *routingHandler) Handle(ctx context.Context, r slog.Record) error {
	return h.target(ctx).Handle(ctx, r)
}

func (h *routingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &routingHandler{with: append(h.with[:len(h.with):len(h.with)],
		func(t slog.Handler) slog.Handler { return t.WithAttrs(attrs) })}
}

func (h *routingHandler) WithGroup(name string) slog.Handler {
	return &routingHandler{with: append(h.with[:len(h.with):len(h.with)],
		func(t slog.Handler) slog.Handler { return t.WithGroup(name) })}
}

// requestLog logs each request at debug level: method, path, status and
// how long it took (on the real clock: it measures, it decides nothing).
func requestLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		// The path only: query strings carry codes and state.
		log.Debug("http request", "method", c.Request.Method, "path", c.Request.URL.Path,
			"status", c.Writer.Status(), "duration", time.Since(start))
	}
}
