package main

import (
	"strings"
	"testing"
)

// TestRedisUse reads two INFO texts as Redis 7 writes them and checks the
// figures per send, the round trips and the line that reports them.
func TestRedisUse(t *testing.T) {
	before := parseRedisCounters("# Stats\r\ntotal_connections_received:3\r\ntotal_commands_processed:100\r\n" +
		"total_reads_processed:40\r\n\r\n# Commandstats\r\n" +
		"cmdstat_evalsha:calls=10,usec=200,usec_per_call=20.00,rejected_calls=0,failed_calls=1\r\n" +
		"cmdstat_get:calls=60,usec=30,usec_per_call=0.50,rejected_calls=0,failed_calls=0\r\n")
	after := parseRedisCounters("# Stats\r\ntotal_commands_processed:180\r\ntotal_reads_processed:60\r\n" +
		"# Commandstats\r\ncmdstat_evalsha:calls=30,usec=600,usec_per_call=20.00\r\n" +
		"cmdstat_get:calls=120,usec=60,usec_per_call=0.50\r\ncmdstat_info:calls=1,usec=30,usec_per_call=30.00\r\n" +
		"cmdstat_config|get:calls=2,usec=4,usec_per_call=2.00\r\n")
	u := after.use(before, 20)
	for _, c := range []struct {
		name      string
		got, want float64
	}{
		{"round trips", u.RoundTrips, 1},
		{"commands", u.Commands, 4},
		{"evalsha calls", u.Calls["evalsha"], 1},
		{"evalsha usec", u.Usec["evalsha"], 20},
		{"get calls", u.Calls["get"], 3},
		{"info calls", u.Calls["info"], 0.05},
		{"config|get calls", u.Calls["config|get"], 0.1},
	} {
		if c.got != c.want {
			t.Errorf("%s per send = %v, want %v", c.name, c.got, c.want)
		}
	}
	line := u.String()
	for _, want := range []string{"1.00 round trips", "1.00 script calls (20.0µs in Redis)", "4.0 commands in all: get 3.00, evalsha 1.00, config|get 0.10, info 0.05"} {
		if !strings.Contains(line, want) {
			t.Errorf("line %q lacks %q", line, want)
		}
	}
	if after.use(before, 0) != nil {
		t.Error("no sends: want no figures")
	}
}
