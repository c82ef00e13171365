package server

import (
	"net"
	"sync"
)

// connLimiter caps the connections open at once, per client IP and in all, at the listener: a
// connection over either cap is closed as soon as it is accepted, before a byte is read, so no
// client can hold the process's file descriptors (once ~20,000 slow bodies from one address
// made accept fail for everyone). The per-IP cap counts the transport's address, not
// ClientKey: a proxy in front counts as one client and should get its own limit.
type connLimiter struct {
	perClient, total int
	onRefused        func()

	mu      sync.Mutex
	clients map[string]int
	open    int
}

func newConnLimiter(perClient, total int, onRefused func()) *connLimiter {
	return &connLimiter{perClient: perClient, total: total, onRefused: onRefused, clients: map[string]int{}}
}

// acquire counts a new connection from ip, or says it is one too many.
func (l *connLimiter) acquire(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if (l.perClient > 0 && l.clients[ip] >= l.perClient) || (l.total > 0 && l.open >= l.total) {
		return false
	}
	l.clients[ip]++
	l.open++
	return true
}

func (l *connLimiter) release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.clients[ip]--; l.clients[ip] <= 0 {
		delete(l.clients, ip)
	}
	l.open--
}

// openConns is the number of connections counted (for tests and metrics).
func (l *connLimiter) openConns() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// limitedListener applies a connLimiter to the connections ln accepts.
type limitedListener struct {
	net.Listener
	l *connLimiter
}

func (ln limitedListener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err // http.Server backs off on temporary errors (EMFILE) itself
		}
		ip := hostOf(c.RemoteAddr())
		if !ln.l.acquire(ip) {
			if ln.l.onRefused != nil {
				ln.l.onRefused()
			}
			// Reset rather than a graceful close: the socket is gone at once, with no
			// TIME_WAIT kept on our side.
			if tc, ok := c.(*net.TCPConn); ok {
				_ = tc.SetLinger(0)
			}
			_ = c.Close()
			continue
		}
		return &countedConn{Conn: c, release: func() { ln.l.release(ip) }}, nil
	}
}

// countedConn gives its place back once, when closed (hijacked websockets included: their
// Close reaches this one).
type countedConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *countedConn) Close() error {
	c.once.Do(c.release)
	return c.Conn.Close()
}

// CloseWrite keeps net/http's graceful close (half-close, then wait for the client) working
// through the wrapper.
func (c *countedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

func hostOf(a net.Addr) string {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.IP.String()
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}
