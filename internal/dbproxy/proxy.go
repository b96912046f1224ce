// Package dbproxy is a TCP proxy for tests that put a real database behind a
// switch: Pause freezes it (connections stay open, no byte moves either way,
// new connections are accepted and then hang: a database or network that went
// silent), Resume thaws it, Stop closes everything (a database that is down:
// connections reset, new ones refused).
package dbproxy

import (
	"net"
	"sync"
)

// Proxy forwards connections from Addr to a target address.
type Proxy struct {
	target string
	ln     net.Listener

	mu      sync.Mutex
	paused  bool
	thawed  chan struct{} // closed on Resume; replaced on Pause
	stopped bool
	conns   map[net.Conn]struct{}
	wg      sync.WaitGroup
}

// Start listens on a free loopback port and forwards to target
// ("127.0.0.1:5432"). Stop it when done.
func Start(target string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	thawed := make(chan struct{})
	close(thawed)
	p := &Proxy{target: target, ln: ln, thawed: thawed, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's "host:port".
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Pause stops forwarding bytes on every connection, current and new, until
// Resume. Nothing is closed: peers see silence.
func (p *Proxy) Pause() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.paused {
		p.paused, p.thawed = true, make(chan struct{})
	}
}

// Resume forwards again what was held back.
func (p *Proxy) Resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.paused {
		p.paused = false
		close(p.thawed)
	}
}

// Stop closes the listener and every connection (a database that is down).
// It is idempotent.
func (p *Proxy) Stop() {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	p.stopped = true
	p.ln.Close()
	for c := range p.conns {
		c.Close()
	}
	if p.paused {
		p.paused = false
		close(p.thawed)
	}
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.wg.Add(1)
		go p.serve(client)
	}
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) serve(client net.Conn) {
	defer p.wg.Done()
	if !p.track(client) {
		return
	}
	// A paused proxy accepts but does not even dial: the connection hangs.
	if !p.wait() {
		return
	}
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		client.Close()
		return
	}
	if !p.track(server) {
		client.Close()
		return
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); p.pipe(server, client) }()
	go func() { defer wg.Done(); p.pipe(client, server) }()
	wg.Wait()
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, server)
	p.mu.Unlock()
}

// wait blocks while paused; false once stopped.
func (p *Proxy) wait() bool {
	p.mu.Lock()
	thawed, stopped := p.thawed, p.stopped
	p.mu.Unlock()
	if stopped {
		return false
	}
	<-thawed
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.stopped
}

// pipe copies src to dst, holding each chunk (and the end of the stream)
// while paused. Bytes read from src during a pause are delivered after
// Resume, none are lost.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer dst.Close()
	defer src.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.wait() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			// Not even a close crosses a paused proxy.
			p.wait()
			return
		}
	}
}
