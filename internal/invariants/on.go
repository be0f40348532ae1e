//go:build race || invariants

package invariants

// Enabled is true in builds with the race detector or the invariants tag: the checks run.
const Enabled = true
