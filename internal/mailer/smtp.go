package mailer

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/internal/store"
)

// server is a parsed Config.URL.
type server struct {
	addr     string // host:port
	host     string
	implicit bool   // smtps: TLS from the start
	starttls string // "", "require" or "off"
	user     string
	password string
}

func parseURL(raw string) (server, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return server{}, fmt.Errorf("mailer: SMTP URL %q must look like smtp://host:port or smtps://user:password@host:port", redact(raw))
	}
	srv := server{host: u.Hostname(), implicit: u.Scheme == "smtps", starttls: u.Query().Get("starttls")}
	port := u.Port()
	if port == "" {
		port = map[bool]string{true: "465", false: "25"}[srv.implicit]
	}
	srv.addr = net.JoinHostPort(srv.host, port)
	if srv.starttls != "" && srv.starttls != "require" && srv.starttls != "off" {
		return server{}, fmt.Errorf("mailer: starttls=%q must be require or off", srv.starttls)
	}
	if u.User != nil {
		srv.user = u.User.Username()
		srv.password, _ = u.User.Password()
	}
	return srv, nil
}

// redact hides a password in an SMTP URL for error messages (an URL that
// does not parse is not shown at all).
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable)"
	}
	return u.Redacted()
}

// errPermanent marks failures that no retry can fix.
var errPermanent = errors.New("permanent failure")

// permanent reports a 5xx answer or an invalid message.
func permanent(err error) bool {
	var te *textproto.Error
	return errors.Is(err, errPermanent) || (errors.As(err, &te) && te.Code >= 500)
}

// send runs one SMTP session delivering m.
func (s *Sender) send(ctx context.Context, m store.OutboxMessage) error {
	data, err := compose(m, s.now())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	c, err := s.dial(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := s.hello(c); err != nil {
		return err
	}
	if err := transfer(c, m, data); err != nil {
		return err
	}
	_ = c.Quit() // the message is accepted; a failed QUIT changes nothing
	return nil
}

func (s *Sender) dial(ctx context.Context) (*smtp.Client, error) {
	d := &net.Dialer{}
	conn, err := d.DialContext(ctx, "tcp", s.srv.addr)
	if err != nil {
		return nil, fmt.Errorf("connect to %s: %w", s.srv.addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	if s.srv.implicit {
		conn = tls.Client(conn, &tls.Config{ServerName: s.srv.host, MinVersion: tls.VersionTLS12})
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	c, err := smtp.NewClient(conn, s.srv.host)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("SMTP greeting from %s: %w", s.srv.addr, err)
	}
	return c, nil
}

// hello greets, upgrades to TLS when offered (or required) and
// authenticates when the URL has credentials.
func (s *Sender) hello(c *smtp.Client) error {
	if err := c.Hello("scimbridge"); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if !s.srv.implicit && s.srv.starttls != "off" {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(&tls.Config{ServerName: s.srv.host, MinVersion: tls.VersionTLS12}); err != nil {
				return fmt.Errorf("STARTTLS: %w", err)
			}
		} else if s.srv.starttls == "require" {
			return fmt.Errorf("the SMTP server does not offer STARTTLS, which the URL requires")
		}
	}
	if s.srv.user != "" {
		if err := c.Auth(smtp.PlainAuth("", s.srv.user, s.srv.password, s.srv.host)); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	return nil
}

// transfer sends the envelope and the data; the server's answer to the
// end of DATA is its acceptance.
func transfer(c *smtp.Client, m store.OutboxMessage, data []byte) error {
	if err := c.Mail(m.From); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	if err := c.Rcpt(m.To); err != nil {
		return fmt.Errorf("RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("end of DATA: %w", err)
	}
	return nil
}

// compose renders m as an RFC 5322 message: UTF-8 text, quoted-printable,
// the subject encoded when it is not ASCII, Message-ID from the outbox id.
func compose(m store.OutboxMessage, now time.Time) ([]byte, error) {
	to, err := plainAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("%w: recipient %q is not a valid e-mail address", errPermanent, truncate(m.To, 100))
	}
	from, err := plainAddress(m.From)
	if err != nil {
		return nil, fmt.Errorf("%w: sender %q is not a valid e-mail address", errPermanent, truncate(m.From, 100))
	}
	var b bytes.Buffer
	for _, h := range [][2]string{
		{"From", from}, {"To", to}, {"Subject", mime.QEncoding.Encode("utf-8", oneLine(m.Subject))},
		{"Date", now.Format(time.RFC1123Z)}, {"Message-ID", "<" + m.ID + "@scimbridge>"},
		{"MIME-Version", "1.0"}, {"Content-Type", "text/plain; charset=utf-8"}, {"Content-Transfer-Encoding", "quoted-printable"},
	} {
		fmt.Fprintf(&b, "%s: %s\r\n", h[0], h[1])
	}
	b.WriteString("\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := qp.Write([]byte(m.Body)); err != nil {
		return nil, err
	}
	if err := qp.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// plainAddress accepts a bare address (no display name, no line breaks).
func plainAddress(s string) (string, error) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || strings.ContainsAny(s, "\r\n") {
		return "", errors.New("invalid address")
	}
	return s, nil
}

func oneLine(s string) string { return strings.NewReplacer("\r", " ", "\n", " ").Replace(s) }
