package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/lawbot-kr/lawbot/advice"
)

// Close codes LawBot's websockets end with besides the protocol's own.
const (
	// wsCloseGoingAway (RFC 6455 1001): the server is shutting down.
	wsCloseGoingAway = 1001
	// wsCloseDuplicateID (graphql-transport-ws 4409): a subscribe reused the id of an
	// operation still running.
	wsCloseDuplicateID = 4409
)

// sockets admits operations on websockets, which gqlgen's transport does not limit: each
// subscribe is charged to the client's request budget (as an HTTP request is), a socket and a
// client may run only so many operations at once, an id still in use closes the socket with
// 4409, and on shutdown idle sockets close at once (1001) and busy ones as their last
// operation ends.
type sockets struct {
	charge    func(ctx context.Context) (bool, time.Duration)
	perSocket int
	perClient int
	onError   func(code string) // counts refusals by code

	mu       sync.Mutex
	clients  map[string]int // running operations per client
	live     map[*wsConn]struct{}
	draining bool
}

func newSockets(charge func(context.Context) (bool, time.Duration), perSocket, perClient int, onError func(string)) *sockets {
	return &sockets{charge: charge, perSocket: perSocket, perClient: perClient, onError: onError,
		clients: map[string]int{}, live: map[*wsConn]struct{}{}}
}

// implementation wraps gqlgen's coder/websocket adapter so every socket goes through s.
func (s *sockets) implementation(inner transport.WebsocketImplementation, client func(context.Context) string) transport.WebsocketImplementation {
	return wsImplementation{inner: inner, s: s, client: client}
}

// Shutdown closes idle sockets now and the others when their operations end; new operations
// are refused. The server calls it when its graceful shutdown begins.
func (s *sockets) Shutdown() {
	s.mu.Lock()
	s.draining = true
	var idle []*wsConn
	for c := range s.live {
		if len(c.ids) == 0 {
			idle = append(idle, c)
		}
	}
	s.mu.Unlock()
	for _, c := range idle {
		c.goAway()
	}
}

type wsImplementation struct {
	inner  transport.WebsocketImplementation
	s      *sockets
	client func(context.Context) string
}

func (w wsImplementation) Accept(rw http.ResponseWriter, r *http.Request, opts transport.WebsocketAcceptOptions) (transport.WebsocketConn, error) {
	conn, err := w.inner.Accept(rw, r, opts)
	if err != nil {
		return nil, err
	}
	c := &wsConn{WebsocketConn: conn, s: w.s, ctx: r.Context(), client: w.client(r.Context()), ids: map[string]struct{}{}}
	w.s.mu.Lock()
	draining := w.s.draining
	w.s.live[c] = struct{}{}
	w.s.mu.Unlock()
	// gqlgen does not close the connection when its reader fails (the peer went away); the
	// request's context ends when the handler returns, whatever the reason.
	context.AfterFunc(r.Context(), c.release)
	if draining {
		c.goAway()
	}
	return c, nil
}

// wsConn watches the messages of one socket: subscribes in, completes and errors out.
type wsConn struct {
	transport.WebsocketConn
	s      *sockets
	ctx    context.Context
	client string

	ids    map[string]struct{} // operations running; guarded by s.mu
	closed bool                // guarded by s.mu
	once   sync.Once
}

// envelope is what both protocols' messages share.
type envelope struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

// NextReader hands gqlgen the next message it should act on. Subscribes over the client's
// budget or its share are answered here with a coded error and not passed on.
func (c *wsConn) NextReader() (int, io.Reader, error) {
	for {
		typ, r, err := c.WebsocketConn.NextReader()
		if err != nil {
			return typ, r, err
		}
		data, err := io.ReadAll(r)
		if err != nil {
			return typ, nil, err
		}
		var m envelope
		if json.Unmarshal(data, &m) != nil || (m.Type != "subscribe" && m.Type != "start") {
			return typ, bytes.NewReader(data), nil // gqlgen answers what it cannot parse
		}
		refused, closeErr := c.admit(m.ID)
		if closeErr != nil {
			return typ, nil, closeErr
		}
		if refused != nil {
			c.refuse(m.ID, refused)
			continue
		}
		return typ, bytes.NewReader(data), nil
	}
}

// admit decides on a subscribe: nil to run it, a refusal to answer, or an error after closing
// the socket (a duplicate id).
func (c *wsConn) admit(id string) (*refusal, error) {
	s := c.s
	s.mu.Lock()
	if c.closed {
		s.mu.Unlock()
		return nil, net.ErrClosed
	}
	if _, dup := c.ids[id]; dup {
		s.mu.Unlock()
		_ = c.WebsocketConn.WriteClose(wsCloseDuplicateID, "Subscriber for "+truncate(id, 64)+" already exists")
		return nil, net.ErrClosed
	}
	switch {
	case s.draining:
		s.mu.Unlock()
		return &refusal{code: advice.CodeUnavailable, msg: "the server is shutting down; reconnect", retryAfter: time.Second}, nil
	case len(c.ids) >= s.perSocket:
		s.mu.Unlock()
		return &refusal{code: CodeTooManyOperations, retryAfter: time.Second,
			msg: fmt.Sprintf("this websocket already runs %d operations; the limit is %d", len(c.ids), s.perSocket)}, nil
	case s.clients[c.client] >= s.perClient:
		n := s.clients[c.client]
		s.mu.Unlock()
		return &refusal{code: CodeTooManyOperations, retryAfter: time.Second,
			msg: fmt.Sprintf("this client already runs %d operations; the limit is %d", n, s.perClient)}, nil
	}
	// Reserve the places before charging, so that subscribes racing on a client's other
	// sockets cannot all pass the check; a refused charge gives them back.
	c.ids[id] = struct{}{}
	s.clients[c.client]++
	s.mu.Unlock()
	if s.charge != nil {
		if ok, wait := s.charge(c.ctx); !ok {
			c.end(id)
			return &refusal{code: CodeRateLimited, retryAfter: wait,
				msg: fmt.Sprintf("too many requests; retry after %d s", retrySeconds(wait))}, nil
		}
	}
	return nil, nil
}

// refuse answers one subscribe with an error message and sends nothing more for its id.
func (c *wsConn) refuse(id string, r *refusal) {
	if c.s.onError != nil {
		c.s.onError(r.code)
	}
	ce, _ := describe(r)
	payload, _ := json.Marshal(gqlerror.List{{Message: ce.message, Extensions: ce.extensions(nil)}})
	_ = c.WebsocketConn.WriteJSON(struct {
		ID      string          `json:"id"`
		Type    string          `json:"type"`
		Payload json.RawMessage `json:"payload"`
	}{id, "error", payload})
}

// WriteJSON passes gqlgen's messages on, noting the operations that end (complete, error).
func (c *wsConn) WriteJSON(v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	// Only a complete or an error ends an operation; the stream's data messages, the large
	// ones, are not decoded again to find that out (json.Marshal writes "type":"…" compactly).
	if bytes.Contains(data, []byte(`"type":"complete"`)) || bytes.Contains(data, []byte(`"type":"error"`)) {
		var m envelope
		if json.Unmarshal(data, &m) == nil && m.ID != "" && (m.Type == "complete" || m.Type == "error") {
			c.end(m.ID)
		}
	}
	return c.WebsocketConn.WriteJSON(json.RawMessage(data))
}

// end forgets a finished operation; a draining socket closes with its last one.
func (c *wsConn) end(id string) {
	s := c.s
	s.mu.Lock()
	if _, ok := c.ids[id]; !ok {
		s.mu.Unlock()
		return
	}
	delete(c.ids, id)
	s.leave(c.client, 1)
	last := s.draining && len(c.ids) == 0
	s.mu.Unlock()
	if last {
		c.goAway()
	}
}

// goAway closes the socket because the server is shutting down.
func (c *wsConn) goAway() {
	c.once.Do(func() {
		_ = c.WebsocketConn.WriteClose(wsCloseGoingAway, "server shutting down")
	})
}

// Close releases whatever the socket still held and closes it.
func (c *wsConn) Close() error {
	c.release()
	return c.WebsocketConn.Close()
}

// release gives back the socket's operations and forgets the socket; it runs once, on Close or
// when the websocket's request ends.
func (c *wsConn) release() {
	s := c.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.closed {
		return
	}
	c.closed = true
	s.leave(c.client, len(c.ids))
	clear(c.ids)
	delete(s.live, c)
}

// leave forgets n operations of client; s.mu is held.
func (s *sockets) leave(client string, n int) {
	if s.clients[client] -= n; s.clients[client] <= 0 {
		delete(s.clients, client)
	}
}

// The optional interfaces gqlgen looks for on a connection: pass them through.

func (c *wsConn) SetReadLimit(limit int64) {
	if l, ok := c.WebsocketConn.(transport.WebsocketReadLimiter); ok {
		l.SetReadLimit(limit)
	}
}

func (c *wsConn) SetReadDeadline(t time.Time) error {
	if d, ok := c.WebsocketConn.(transport.WebsocketReadDeadliner); ok {
		return d.SetReadDeadline(t)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "") + "…" // a close reason must be UTF-8
}
