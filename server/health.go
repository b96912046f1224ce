package server

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/stepgate/stepgate/login"
	"github.com/stepgate/stepgate/migrations"
)

// readyTimeout is /readyz's own bound, shorter than any prober's patience.
const readyTimeout = 3 * time.Second

// ready answers 200 only when the database answers and the schema is the
// one this binary expects; 503 otherwise, and within readyTimeout even when
// the database does not answer at all (the check runs on, bounded by the
// store's own timeout, but the probe is not kept waiting). It only reads.
func (s *Server) ready(c *gin.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), readyTimeout)
	defer cancel()
	type verdict struct {
		body string // what the probe sees
		err  error  // what the log says
	}
	result := make(chan verdict, 1)
	go func() {
		if err := s.db.Ping(ctx); err != nil {
			result <- verdict{"database unreachable", err}
		} else if err := migrations.Check(ctx, s.db.DB(), s.db.Dialect()); err != nil {
			result <- verdict{"database schema not current", err}
		} else {
			result <- verdict{}
		}
	}()
	var v verdict
	select {
	case v = <-result:
	case <-ctx.Done():
		v = verdict{"database unreachable", fmt.Errorf("no answer within %s", readyTimeout)}
	}
	if v.err != nil {
		s.log.Warn("readiness: "+v.body, "err", v.err)
		c.String(http.StatusServiceUnavailable, v.body)
		return
	}
	c.String(http.StatusOK, "ready")
}

// cleanupEvery is how often Cleanup deletes what has expired.
const cleanupEvery = 10 * time.Minute

// Cleanup deletes expired sessions, requests, tokens and rate-limit
// counters at once and then every cleanupEvery, as of the server's clock,
// until ctx ends.
func (s *Server) Cleanup(ctx context.Context) {
	t := time.NewTicker(cleanupEvery)
	defer t.Stop()
	for {
		now := s.now()
		if _, err := s.db.DeleteExpiredSessions(ctx, now, s.cfg.SessionIdle); err != nil && ctx.Err() == nil {
			s.log.Warn("cleanup sessions", "err", err)
		}
		if _, err := s.db.DeleteExpiredAuthRequests(ctx, now); err != nil && ctx.Err() == nil {
			s.log.Warn("cleanup auth requests", "err", err)
		}
		if _, err := s.db.DeleteExpiredTokens(ctx, now); err != nil && ctx.Err() == nil {
			s.log.Warn("cleanup tokens", "err", err)
		}
		// Every counter's window is over once the longest window has passed.
		longest := max(login.CodesWindow, s.cfg.PasswordIPWindow)
		if _, err := s.db.DeleteRateLimitsBefore(ctx, now.Add(-longest)); err != nil && ctx.Err() == nil {
			s.log.Warn("cleanup rate limits", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
