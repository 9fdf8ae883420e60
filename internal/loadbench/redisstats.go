package main

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisCounters are Redis's own counters, read with INFO before and after
// a measured run of scenario (d), so that the run's figures per accepted
// send come from the server that did the work rather than from the client.
type redisCounters struct {
	// Commands is total_commands_processed: every command executed, those
	// a script calls included.
	Commands int64
	// Reads is total_reads_processed: reads of client sockets. A client
	// waits for each reply before its next command unless it pipelines,
	// so this counts round trips; a pipelined batch read at once is one.
	Reads int64
	// Calls and Usec are commandstats' calls and usec by command name
	// (lower case; "config|get" for subcommands).
	Calls, Usec map[string]int64
}

// readRedisCounters reads INFO stats and commandstats.
func readRedisCounters(ctx context.Context, rdb *redis.Client) (redisCounters, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	info, err := rdb.Info(ctx, "stats", "commandstats").Result()
	if err != nil {
		return redisCounters{}, fmt.Errorf("redis INFO: %w", err)
	}
	return parseRedisCounters(info), nil
}

// parseRedisCounters reads the INFO text: "name:value" lines, and in
// commandstats "cmdstat_get:calls=3,usec=5,usec_per_call=1.67,...".
func parseRedisCounters(info string) redisCounters {
	c := redisCounters{Calls: map[string]int64{}, Usec: map[string]int64{}}
	for line := range strings.Lines(info) {
		name, value, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch {
		case name == "total_commands_processed":
			c.Commands, _ = strconv.ParseInt(value, 10, 64)
		case name == "total_reads_processed":
			c.Reads, _ = strconv.ParseInt(value, 10, 64)
		case strings.HasPrefix(name, "cmdstat_"):
			cmd := strings.TrimPrefix(name, "cmdstat_")
			for field := range strings.SplitSeq(value, ",") {
				k, v, _ := strings.Cut(field, "=")
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					continue
				}
				switch k {
				case "calls":
					c.Calls[cmd] = n
				case "usec":
					c.Usec[cmd] = n
				}
			}
		}
	}
	return c
}

// redisUse is what Redis did per accepted send in one measured run.
type redisUse struct {
	// RoundTrips is socket reads per send (see redisCounters.Reads).
	RoundTrips float64 `json:"round_trips_per_send"`
	// Commands is commands executed per send, those scripts call included.
	Commands float64 `json:"commands_per_send"`
	// Calls is each command's calls per send, Usec its microseconds of
	// execution per send (a script's include the commands it calls).
	Calls map[string]float64 `json:"calls_per_send"`
	Usec  map[string]float64 `json:"usec_per_send"`
}

// use divides the counters' growth from before to c by sends.
func (c redisCounters) use(before redisCounters, sends uint64) *redisUse {
	if sends == 0 {
		return nil
	}
	n := float64(sends)
	u := &redisUse{
		RoundTrips: float64(c.Reads-before.Reads) / n,
		Commands:   float64(c.Commands-before.Commands) / n,
		Calls:      map[string]float64{},
		Usec:       map[string]float64{},
	}
	for cmd, calls := range c.Calls {
		if d := calls - before.Calls[cmd]; d > 0 {
			u.Calls[cmd] = float64(d) / n
			u.Usec[cmd] = float64(c.Usec[cmd]-before.Usec[cmd]) / n
		}
	}
	return u
}

// scripts are the commands that run a script: their usec include the
// commands the script calls, which commandstats also lists on their own.
var scripts = []string{"evalsha", "eval", "evalsha_ro", "eval_ro", "fcall", "fcall_ro"}

// String is one line: round trips and commands per send, then every
// command by calls per send, most first (commands under 0.01 per send, such
// as the benchmark's own INFO, are left out).
func (u *redisUse) String() string {
	var top, usec float64
	for _, s := range scripts {
		usec += u.Usec[s]
	}
	cmds := slices.SortedFunc(maps.Keys(u.Calls), func(a, b string) int {
		return cmp.Or(cmp.Compare(u.Calls[b], u.Calls[a]), strings.Compare(a, b))
	})
	parts := make([]string, 0, len(cmds))
	for _, cmd := range cmds {
		if u.Calls[cmd] < 0.01 {
			continue
		}
		if slices.Contains(scripts, cmd) {
			top += u.Calls[cmd]
		}
		parts = append(parts, fmt.Sprintf("%s %.2f", cmd, u.Calls[cmd]))
	}
	return fmt.Sprintf("%.2f round trips, %.2f script calls (%.1fµs in Redis), %.1f commands in all: %s",
		u.RoundTrips, top, usec, u.Commands, strings.Join(parts, ", "))
}
