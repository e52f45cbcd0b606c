package postgres

// CommitLockSQL lets the external tests take a tenant's commit lock as a
// replica in the middle of ClaimJob holds it.
const CommitLockSQL = commitLockSQL
