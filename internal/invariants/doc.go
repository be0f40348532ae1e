// Package invariants switches on the checks of redundant internal state, in the manner of
// Pebble's internal/invariants: they run in builds with the race detector (every `make test`)
// or the `invariants` build tag, and cost nothing otherwise, since code behind
// `if invariants.Enabled` is compiled away when the constant is false.
package invariants
