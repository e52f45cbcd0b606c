package directory

import (
	"context"
	"fmt"
	"net/http"

	scimerrors "github.com/elimity-com/scim/errors"
	"github.com/scimbridge/scimbridge/internal/policy"
	"github.com/scimbridge/scimbridge/internal/store"
)

// OutboxAccountCreated is the kind of the "you have an account" message.
const OutboxAccountCreated = "account-created"

// DefaultSubject is the subject of the "you have an account" message when
// the tenant's settings give none.
const DefaultSubject = "Your account is ready"

// notifier composes the "you have an account" messages of one run (one
// tenant), reading the tenant's notification settings once.
type notifier struct {
	s      *Service
	tenant string
	loaded bool
	n      Notifications
}

func newNotifier(s *Service, p policy.Principal) *notifier { return &notifier{s: s, tenant: p.Tenant} }

// attach adds the message for u (a user about to be created) to
// u.Outbox; a nil notifier adds nothing. The user needs an email (the
// primary one, else the first) and the tenant a sign-in URL.
func (n *notifier) attach(ctx context.Context, u *store.User) error {
	if n == nil {
		return nil
	}
	if !n.loaded {
		st, err := n.s.store.GetSettings(ctx, n.tenant)
		if err != nil {
			return n.s.settingsError(ctx, n.tenant, err)
		}
		ts, err := decodeSettings(st)
		if err != nil {
			return n.s.settingsError(ctx, n.tenant, err)
		}
		n.n, n.loaded = ts.Notifications, true
	}
	if n.n.SignInURL == "" {
		return notifyError("This tenant's notification settings have no signInUrl, so no account message can be sent; " +
			"a tier 3 admin sets it with PUT /settings (or scimbridge settings set).")
	}
	to := recipient(u.Emails)
	if to == "" {
		return notifyError(fmt.Sprintf("User %q has no email address to send the account message to.", truncate(u.UserName, 120)))
	}
	u.Outbox = append(u.Outbox, welcomeMessage(n.n, u, to))
	return nil
}

func notifyError(detail string) error {
	return scimerrors.ScimError{Status: http.StatusBadRequest, ScimType: scimerrors.ScimTypeInvalidValue, Detail: detail}
}

// recipient is the primary email, else the first non-empty one.
func recipient(emails []store.Email) string {
	for _, e := range emails {
		if e.Primary && e.Value != "" {
			return e.Value
		}
	}
	for _, e := range emails {
		if e.Value != "" {
			return e.Value
		}
	}
	return ""
}

// welcomeMessage is the "you have an account" message.
func welcomeMessage(n Notifications, u *store.User, to string) store.OutboxMessage {
	subject := n.Subject
	if subject == "" {
		subject = DefaultSubject
	}
	name := u.DisplayName
	if name == "" {
		name = u.UserName
	}
	body := fmt.Sprintf("Hello %s,\r\n\r\nAn account has been created for you (user name: %s).\r\n"+
		"Sign in or set your password here:\r\n%s\r\n", name, u.UserName, n.SignInURL)
	return store.OutboxMessage{Kind: OutboxAccountCreated, To: to, From: n.From, Subject: subject, Body: body, Created: u.Created}
}
