// Package depcheck holds only a test: the go list -deps figures of the
// three users' programs (a light client, the stub kit, the full service),
// with limits. See depcheck_test.go.
package depcheck
