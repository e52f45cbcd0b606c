// Package smtptest runs a minimal SMTP server on a loopback listener for
// tests: it speaks enough of RFC 5321 (EHLO/HELO, MAIL, RCPT, DATA, RSET,
// NOOP, QUIT) for net/smtp clients, keeps every accepted message, and can
// be told to refuse DATA with a given reply. No TLS, no AUTH.
package smtptest

import (
	"bufio"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	// Data is the message as sent (headers and body, dot-unstuffed).
	Data string
}

// Header returns a header of the message ("" when absent or unparsable).
func (m Message) Header(name string) string {
	msg, err := mail.ReadMessage(strings.NewReader(m.Data))
	if err != nil {
		return ""
	}
	return msg.Header.Get(name)
}

// Server is a running test SMTP server.
type Server struct {
	ln       net.Listener
	mu       sync.Mutex
	messages []Message
	refuse   []string // replies to the next DATA ends, in order
	changed  chan struct{}
	wg       sync.WaitGroup
}

// Start runs a server until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{ln: ln, changed: make(chan struct{})}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

// URL is the server's address as an smtp:// URL.
func (s *Server) URL() string { return "smtp://" + s.ln.Addr().String() }

// Messages returns the accepted messages, in order.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// RefuseNext makes the next len(replies) messages fail at the end of DATA
// with those replies (e.g. "451 4.3.0 try later", "550 5.1.1 no such user").
func (s *Server) RefuseNext(replies ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = append(s.refuse, replies...)
}

// WaitFor waits until at least n messages were accepted or d passed, and
// returns the messages.
func (s *Server) WaitFor(n int, d time.Duration) []Message {
	deadline := time.After(d)
	for {
		s.mu.Lock()
		got, ch := len(s.messages), s.changed
		s.mu.Unlock()
		if got >= n {
			return s.Messages()
		}
		select {
		case <-ch:
		case <-deadline:
			return s.Messages()
		}
	}
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer conn.Close()
			s.session(conn)
		}()
	}
}

// session speaks SMTP on one connection.
func (s *Server) session(conn net.Conn) {
	_ = conn.SetDeadline(time.Now().Add(time.Minute))
	r, w := bufio.NewReader(conn), bufio.NewWriter(conn)
	reply := func(lines ...string) {
		for _, l := range lines {
			_, _ = w.WriteString(l + "\r\n")
		}
		_ = w.Flush()
	}
	reply("220 smtptest ready")
	var cur Message
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			reply("250-smtptest", "250-8BITMIME", "250 SIZE 10485760")
		case strings.HasPrefix(cmd, "HELO"), cmd == "NOOP":
			reply("250 ok")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			cur = Message{From: address(line)}
			reply("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			cur.To = append(cur.To, address(line))
			reply("250 ok")
		case cmd == "DATA":
			reply("354 end with .")
			data, ok := readData(r)
			if !ok {
				return
			}
			cur.Data = data
			reply(s.accept(cur))
			cur = Message{}
		case cmd == "RSET":
			cur = Message{}
			reply("250 ok")
		case cmd == "QUIT":
			reply("221 bye")
			return
		default:
			reply("502 command not implemented")
		}
	}
}

// accept keeps msg, or refuses it with the next queued reply.
func (s *Server) accept(msg Message) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.refuse) > 0 {
		r := s.refuse[0]
		s.refuse = s.refuse[1:]
		return r
	}
	s.messages = append(s.messages, msg)
	close(s.changed)
	s.changed = make(chan struct{})
	return "250 ok queued"
}

func address(line string) string {
	i, j := strings.IndexByte(line, '<'), strings.IndexByte(line, '>')
	if i < 0 || j < i {
		return ""
	}
	return line[i+1 : j]
}

// readData reads lines up to the lone "." and undoes dot-stuffing.
func readData(r *bufio.Reader) (string, bool) {
	var b strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return "", false
		}
		if line == ".\r\n" || line == ".\n" {
			return b.String(), true
		}
		b.WriteString(strings.TrimPrefix(line, "."))
	}
}
