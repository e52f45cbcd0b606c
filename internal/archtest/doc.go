// Package archtest holds a test that keeps the import arrows of DESIGN.md
// honest: cmd -> scim, csvbridge -> internal/directory -> internal/store <-
// backends. It has no code of its own.
package archtest
