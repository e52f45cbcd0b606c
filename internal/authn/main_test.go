package authn_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them (a
// worker, pool, listener or request left running).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
