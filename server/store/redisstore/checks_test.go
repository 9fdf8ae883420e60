package redisstore_test

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/smscode/smscode/internal/redistest"
	"github.com/smscode/smscode/internal/testutil"
	"github.com/smscode/smscode/server/store/redisstore"
)

// logLine is one JSON log line LogSettings wrote.
type logLine struct {
	Level   string `json:"level"`
	Msg     string `json:"msg"`
	Setting string `json:"setting"`
	Set     string `json:"set"`
	Err     string `json:"err"`
}

// A real redis-server started with each set of settings: LogSettings warns
// once per setting that puts the limits at risk, naming it and what to set;
// where CONFIG is refused (renamed away, or not granted to the ACL user) it
// says at info that it could not check, and warns of nothing.
func TestLogSettingsWarnsOfRiskySettings(t *testing.T) {
	tests := []struct {
		name string
		args []string
		user string // connect as this ACL user (password "pw")
		// warned lists the settings warned of, in order; info is a
		// substring of the one info line.
		warned []string
		info   string
	}{
		{"no persistence (redis-server's save \"\" and appendonly no)", nil, "",
			[]string{"appendonly"}, ""},
		{"RDB snapshots only", []string{"--save", "3600 1"}, "",
			[]string{"appendonly"}, ""},
		{"evicting and no persistence", []string{"--maxmemory-policy", "allkeys-lru"}, "",
			[]string{"maxmemory-policy", "appendonly"}, ""},
		{"volatile eviction with the AOF", []string{"--maxmemory-policy", "volatile-ttl", "--appendonly", "yes"}, "",
			[]string{"maxmemory-policy"}, ""},
		{"what the limits need", []string{"--appendonly", "yes", "--maxmemory-policy", "noeviction"}, "",
			nil, "settings checked"},
		{"CONFIG renamed away", []string{"--rename-command", "CONFIG", ""}, "",
			nil, "could not check"},
		{"CONFIG not granted to the user", []string{"--user", "app", "on", ">pw", "~*", "&*", "+@all", "-config"}, "app",
			nil, "could not check"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := redistest.Start(t, tt.args...)
			url := "redis://" + srv.Addr()
			if tt.user != "" {
				url = "redis://" + tt.user + ":pw@" + srv.Addr()
			}
			c, err := redisstore.NewClient(redisstore.Options{URL: url})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			buf := &testutil.SyncBuffer{}
			ctx, cancel := context.WithTimeout(context.Background(), redisstore.CheckTimeout)
			defer cancel()
			redisstore.LogSettings(ctx, c, slog.New(slog.NewJSONHandler(buf, nil)))

			var warned []string
			var infos []logLine
			sc := bufio.NewScanner(strings.NewReader(buf.String()))
			for sc.Scan() {
				var l logLine
				if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
					t.Fatalf("log line %q: %v", sc.Text(), err)
				}
				switch l.Level {
				case "WARN":
					warned = append(warned, l.Setting)
					// The line names the setting and what to set.
					if !strings.Contains(l.Msg, l.Setting) || l.Set == "" || !strings.Contains(l.Msg, "set "+l.Setting+" "+l.Set) {
						t.Errorf("warning %q does not say what to set", sc.Text())
					}
				case "INFO":
					infos = append(infos, l)
				default:
					t.Errorf("unexpected log line %q", sc.Text())
				}
			}
			if strings.Join(warned, ",") != strings.Join(tt.warned, ",") {
				t.Errorf("warned of %v, want %v; log:\n%s", warned, tt.warned, buf)
			}
			switch {
			case tt.info == "" && len(infos) != 0:
				t.Errorf("info lines %v, want none", infos)
			case tt.info != "" && (len(infos) != 1 || !strings.Contains(infos[0].Msg, tt.info)):
				t.Errorf("info lines %v, want one saying %q", infos, tt.info)
			}
			t.Logf("%s", strings.TrimSpace(buf.String()))
		})
	}
}
