package image_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"

	"github.com/smscode/smscode/internal/image"
)

// A small Dockerfile reader, for the instructions the image's config comes
// from: enough to hold the top-level Dockerfile to internal/image's
// Declared, and strict where it is not enough (a form it does not know is
// an error, never a silently different value).

// dfInstr is one instruction, its continuation lines joined.
type dfInstr struct {
	cmd  string // upper case: FROM, ARG, LABEL...
	rest string
	line int
}

// dfStage is a FROM and the instructions after it.
type dfStage struct {
	from, name string
	instrs     []dfInstr
}

// dockerfile is a parsed Dockerfile: the ARGs before the first FROM, and
// the stages.
type dockerfile struct {
	globalArgs []dfInstr
	stages     []dfStage
}

// parseDockerfile splits r into instructions: comments and blank lines
// dropped (also inside continuations, as Docker does), lines ending in a
// backslash joined with the next.
func parseDockerfile(r io.Reader) (*dockerfile, error) {
	var instrs []dfInstr
	sc := bufio.NewScanner(r)
	var cur strings.Builder
	start, n := 0, 0
	for sc.Scan() {
		n++
		line := strings.TrimRightFunc(sc.Text(), unicode.IsSpace)
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		if cur.Len() == 0 {
			start = n
		}
		if strings.HasSuffix(line, `\`) {
			cur.WriteString(strings.TrimSuffix(line, `\`))
			cur.WriteString(" ")
			continue
		}
		cur.WriteString(line)
		text := strings.TrimSpace(cur.String())
		cur.Reset()
		cmd, rest, _ := strings.Cut(text, " ")
		instrs = append(instrs, dfInstr{cmd: strings.ToUpper(cmd), rest: strings.TrimSpace(rest), line: start})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if cur.Len() > 0 {
		return nil, fmt.Errorf("line %d: continuation at the end of the file", start)
	}
	df := &dockerfile{}
	for _, in := range instrs {
		if in.cmd == "FROM" {
			f := strings.Fields(in.rest)
			st := dfStage{}
			switch {
			case len(f) == 1:
				st.from = f[0]
			case len(f) == 3 && strings.EqualFold(f[1], "AS"):
				st.from, st.name = f[0], f[2]
			default:
				return nil, fmt.Errorf("line %d: FROM %s: want IMAGE [AS NAME]", in.line, in.rest)
			}
			df.stages = append(df.stages, st)
			continue
		}
		if len(df.stages) == 0 {
			if in.cmd != "ARG" {
				return nil, fmt.Errorf("line %d: %s before the first FROM", in.line, in.cmd)
			}
			df.globalArgs = append(df.globalArgs, in)
			continue
		}
		last := &df.stages[len(df.stages)-1]
		last.instrs = append(last.instrs, in)
	}
	if len(df.stages) == 0 {
		return nil, fmt.Errorf("no FROM")
	}
	return df, nil
}

// globals returns the values of the ARGs before the first FROM, with the
// build arguments given.
func (df *dockerfile) globals(buildArgs map[string]string) (map[string]string, error) {
	vars := map[string]string{}
	for _, in := range df.globalArgs {
		if err := declareArg(vars, nil, in, buildArgs); err != nil {
			return nil, err
		}
	}
	return vars, nil
}

// declareArg handles ARG NAME[=default]: a build argument wins, then the
// default, then (a bare ARG in a stage) the global ARG of that name.
func declareArg(vars, globals map[string]string, in dfInstr, buildArgs map[string]string) error {
	words, err := shellWords(in.rest, vars)
	if err != nil {
		return fmt.Errorf("line %d: ARG: %w", in.line, err)
	}
	for _, w := range words {
		name, def, hasDef := strings.Cut(w, "=")
		switch v, ok := buildArgs[name]; {
		case ok:
			vars[name] = v
		case hasDef:
			vars[name] = def
		default:
			if g, ok := globals[name]; ok {
				vars[name] = g
			} else {
				vars[name] = ""
			}
		}
	}
	return nil
}

// dfCopy is one COPY of the final stage.
type dfCopy struct {
	from, chown string
	srcs        []string
	dst         string
}

// finalStage evaluates the last stage: the image config it declares, and
// its COPYs.
func (df *dockerfile) finalStage(buildArgs map[string]string) (spec image.Spec, copies []dfCopy, err error) {
	globals, err := df.globals(buildArgs)
	if err != nil {
		return spec, nil, err
	}
	st := df.stages[len(df.stages)-1]
	vars := map[string]string{}
	spec.Labels = map[string]string{}
	for _, in := range st.instrs {
		fail := func(err error) error { return fmt.Errorf("line %d: %s: %w", in.line, in.cmd, err) }
		switch in.cmd {
		case "ARG":
			if err := declareArg(vars, globals, in, buildArgs); err != nil {
				return spec, nil, err
			}
		case "ENV", "LABEL":
			words, err := shellWords(in.rest, vars)
			if err != nil {
				return spec, nil, fail(err)
			}
			for _, w := range words {
				k, v, ok := strings.Cut(w, "=")
				if !ok || k == "" {
					return spec, nil, fail(fmt.Errorf("%q: want KEY=VALUE", w))
				}
				if in.cmd == "LABEL" {
					spec.Labels[k] = v
					continue
				}
				vars[k] = v
				spec.Env = setEnv(spec.Env, k, v)
			}
		case "USER", "WORKDIR":
			words, err := shellWords(in.rest, vars)
			if err != nil || len(words) != 1 {
				return spec, nil, fail(fmt.Errorf("want one word: %v", err))
			}
			if in.cmd == "USER" {
				spec.User = words[0]
			} else {
				spec.WorkingDir = words[0]
			}
		case "EXPOSE":
			words, err := shellWords(in.rest, vars)
			if err != nil {
				return spec, nil, fail(err)
			}
			for _, p := range words {
				if !strings.Contains(p, "/") {
					p += "/tcp"
				}
				spec.ExposedPorts = append(spec.ExposedPorts, p)
			}
		case "ENTRYPOINT", "CMD":
			// Only the exec form: the shell form needs /bin/sh, which a
			// FROM scratch image has not.
			var argv []string
			if err := json.Unmarshal([]byte(in.rest), &argv); err != nil {
				return spec, nil, fail(fmt.Errorf("not the exec (JSON) form: %w", err))
			}
			if in.cmd == "ENTRYPOINT" {
				spec.Entrypoint = argv
				spec.Cmd = nil // as Docker: a later ENTRYPOINT resets CMD
			} else {
				spec.Cmd = argv
			}
		case "COPY":
			words, err := shellWords(in.rest, vars)
			if err != nil {
				return spec, nil, fail(err)
			}
			var c dfCopy
			for len(words) > 0 && strings.HasPrefix(words[0], "--") {
				k, v, _ := strings.Cut(strings.TrimPrefix(words[0], "--"), "=")
				switch k {
				case "from":
					c.from = v
				case "chown":
					c.chown = v
				default:
					return spec, nil, fail(fmt.Errorf("flag --%s not understood here", k))
				}
				words = words[1:]
			}
			if len(words) < 2 {
				return spec, nil, fail(fmt.Errorf("want SRC... DST"))
			}
			c.srcs, c.dst = words[:len(words)-1], words[len(words)-1]
			copies = append(copies, c)
		case "RUN", "ADD", "ONBUILD", "SHELL", "VOLUME", "STOPSIGNAL", "HEALTHCHECK":
			// Each would change the image beyond what the builder makes.
			return spec, nil, fail(fmt.Errorf("not expected in the final stage"))
		default:
			return spec, nil, fail(fmt.Errorf("unknown instruction"))
		}
	}
	return spec, copies, nil
}

func setEnv(env []string, k, v string) []string {
	for i, kv := range env {
		if strings.HasPrefix(kv, k+"=") {
			env[i] = k + "=" + v
			return env
		}
	}
	return append(env, k+"="+v)
}

// shellWords splits s into words as Docker does for these instructions:
// whitespace separates, quotes group and are removed, a backslash escapes
// the next character outside single quotes, and $NAME or ${NAME} expands
// from vars outside single quotes (an unset name is empty). ${NAME:-...}
// and the other modifiers are refused.
func shellWords(s string, vars map[string]string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	var quote rune
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case quote == '\'' && c == '\'':
			quote = 0
		case quote == '\'':
			w.WriteRune(c)
		case c == '\\' && i+1 < len(rs):
			i++
			w.WriteRune(rs[i])
			inWord = true
		case c == '$':
			name, n, err := varName(rs[i+1:])
			if err != nil {
				return nil, err
			}
			if n == 0 {
				w.WriteRune(c)
			} else {
				w.WriteString(vars[name])
				i += n
			}
			inWord = true
		case quote == '"' && c == '"':
			quote = 0
		case quote == '"':
			w.WriteRune(c)
		case c == '"' || c == '\'':
			quote = c
			inWord = true
		case unicode.IsSpace(c):
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		default:
			w.WriteRune(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote in %q", quote, s)
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// varName reads the name after a $: NAME or {NAME}; n is how many runes it
// took (0: not a variable, the $ is literal).
func varName(rs []rune) (name string, n int, err error) {
	isName := func(c rune, first bool) bool {
		return c == '_' || unicode.IsLetter(c) || (!first && unicode.IsDigit(c))
	}
	if len(rs) > 0 && rs[0] == '{' {
		end := -1
		for j, c := range rs {
			if c == '}' {
				end = j
				break
			}
		}
		if end < 0 {
			return "", 0, fmt.Errorf("unterminated ${")
		}
		name = string(rs[1:end])
		for j, c := range name {
			if !isName(c, j == 0) {
				return "", 0, fmt.Errorf("${%s}: only plain ${NAME} is understood", name)
			}
		}
		if name == "" {
			return "", 0, fmt.Errorf("empty ${}")
		}
		return name, end + 1, nil
	}
	j := 0
	for j < len(rs) && isName(rs[j], j == 0) {
		j++
	}
	return string(rs[:j]), j, nil
}
