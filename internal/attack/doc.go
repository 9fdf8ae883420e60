// Package attack holds attack and fault-injection tests of the whole
// server, in one process: the real HTTP server (the http.Server that
// server.Server.HTTPServer configures, on a loopback listener), the real
// validator and send pipeline, an in-memory store on a fake clock, and SMS
// providers replaced by fakes whose behaviour a test switches (accept,
// refuse, fail, hang, reset, slow).
//
// They check what an attacker or a failing dependency must not achieve:
// guessing a code past the attempt cap with made-up addresses and devices,
// guessing more than the per-number daily bound from many real (loopback)
// addresses across resends, flooding verify from one address, killing
// another caller's code with wrong guesses,
// escaping the per-IP limit with X-Forwarded-For or X-device-ip, holding
// the server with oversized or slow requests (slowloris), loading it with
// slider puzzles from rotating source addresses (the global puzzle
// budget), and, when SMS
// providers fail or the server shuts down under load, losing a request,
// sending an SMS for a request answered with an error, leaving an
// undelivered code valid, or sending one SMS twice.
//
// The package has no non-test code. Its tests take a few seconds in all.
package attack
