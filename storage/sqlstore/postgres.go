package sqlstore

import (
	"context"
	"database/sql"
	"net"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// openPostgres opens a pool whose every connection is bounded in time. A
// context deadline alone does not do it: on cancellation lib/pq sends a
// cancel request over a new connection and keeps waiting for the answer on
// the old one, which never comes from a database (or network) that went
// silent. So the connection itself gets a deadline on every read and write,
// a little longer than the operation timeout; the server gets the same
// bounds as session settings, unless the URL sets its own.
func openPostgres(dsn string, timeout time.Duration) (*sqlx.DB, error) {
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		return nil, err
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = timeout
	}
	if cfg.Runtime == nil {
		cfg.Runtime = map[string]string{}
	}
	ms := strconv.FormatInt(timeout.Milliseconds(), 10)
	for k, v := range map[string]string{
		"statement_timeout": ms,
		"lock_timeout":      ms,
		// A replica cut off mid-transaction must not hold its row locks
		// until TCP gives up.
		"idle_in_transaction_session_timeout": strconv.FormatInt(2*timeout.Milliseconds(), 10),
	} {
		if _, set := cfg.Runtime[k]; !set {
			cfg.Runtime[k] = v
		}
	}
	connector, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, err
	}
	connector.Dialer(deadlineDialer{idle: timeout + time.Second})
	return sqlx.NewDb(sql.OpenDB(connector), "postgres"), nil
}

// deadlineDialer dials connections that fail a read or write which makes no
// progress for idle. pq only reads while it awaits an answer, so an idle
// pooled connection is not affected.
type deadlineDialer struct {
	d    net.Dialer
	idle time.Duration
}

func (d deadlineDialer) Dial(network, address string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, address)
}

func (d deadlineDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, network, address)
}

func (d deadlineDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := d.d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return &deadlineConn{Conn: c, idle: d.idle}, nil
}

type deadlineConn struct {
	net.Conn
	idle time.Duration
}

func (c *deadlineConn) Read(b []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

func (c *deadlineConn) Write(b []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.idle)); err != nil {
		return 0, err
	}
	return c.Conn.Write(b)
}
