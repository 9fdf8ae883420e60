// Package e2e holds end-to-end tests that run the smscode binary itself: two
// (or more) server processes sharing one real redis-server, in front of a
// fake SMS gateway (a Standard Webhooks receiver) and a fake CAPTCHA
// siteverify endpoint, both served by the test process on loopback.
//
// They prove what one process cannot: that limits, codes, attempts and used
// CAPTCHA tokens are shared by every instance; that a Redis outage fails
// closed and heals without restarting the instances; and that a terminated
// instance finishes its in-flight requests.
//
// The package has no non-test code. Its tests skip when redis-server is not
// installed, and fail instead when SMSCODE_REQUIRE_REDIS=1 (see
// internal/redistest). When the tests are built with -race, the server
// binary is built with -race too, so that a data race in a real
// multi-instance run fails the test.
package e2e
