// Package audittest checks audit trail files in tests: every line an Event
// that matches audit.Schema, and none carrying what must never be in one (a
// code, a full number). servertest runs it over every event of every test
// server, so the whole suite's traffic is checked, not one test's.
package audittest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/smscode/smscode/server/audit"
)

var schema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(audit.Schema))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	if err := c.AddResource("event.schema.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("event.schema.json")
})

// Validate checks that line is one event as audit.Schema describes it.
func Validate(line []byte) error {
	s, err := schema()
	if err != nil {
		return fmt.Errorf("audit schema: %w", err)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(line))
	if err != nil {
		return fmt.Errorf("not JSON: %w: %s", err, line)
	}
	if err := s.Validate(v); err != nil {
		return fmt.Errorf("event does not match event.schema.json: %v\n%s", err, line)
	}
	return nil
}

// ReadFile reads a JSON Lines audit file and validates each line; a
// missing file is no events.
func ReadFile(path string) ([]audit.Event, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var events []audit.Event
	for _, line := range bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if err := Validate(line); err != nil {
			return nil, err
		}
		var e audit.Event
		if err := json.Unmarshal(line, &e); err != nil {
			return nil, err
		}
		events = append(events, e)
	}
	return events, nil
}

// Leaks returns what of forbidden (codes, full numbers in any form) appears
// in any field of e that holds text: everything but the time and the two
// fixed-format hashes, whose digits could match a code by chance and which
// the schema allows only as 32 hex digits.
func Leaks(e audit.Event, forbidden []string) []string {
	fields := []string{e.Type, e.RequestID, e.ClientID, e.TenantID, e.Scenario, e.Outcome, e.ErrorCode,
		e.CountryCode, e.NumberMasked, e.ClientIP, e.Provider, e.MessageID}
	var found []string
	for _, f := range forbidden {
		if f == "" {
			continue
		}
		for _, v := range fields {
			if strings.Contains(v, f) {
				found = append(found, f)
				break
			}
		}
	}
	return found
}
