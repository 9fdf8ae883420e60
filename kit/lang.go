package kit

import (
	"strings"

	"golang.org/x/text/language"
)

// X-L is a language list as browsers and OS locales write it: a tag
// ("zh", "en-US", "zh_CN"), or an Accept-Language list ("en-US,zh;q=0.9",
// "*"), or nothing. The spec's pattern and maxLength bound its characters
// and length; isLanguageList refuses what passes them but is not a list at
// all ("x", "en;q=abc"), and RequestLang picks the language of the answer.

// The languages of the error messages (and of smscode's SMS templates,
// whose package sms uses the same names): RequestLang answers one of them.
const (
	LangEnglish = "en"
	LangChinese = "zh"
)

// maxLanguageList is X-L's maxLength in openapi.yaml.
const maxLanguageList = 200

// langTags are the languages of the SMS templates and error messages, in
// the order langNames names them.
var (
	langTags    = []language.Tag{language.English, language.Chinese}
	langNames   = []string{LangEnglish, LangChinese}
	langMatcher = language.NewMatcher(langTags)
)

// isLanguageList reports whether xl parses as an Accept-Language list
// (the empty list included). It is the X-L rule's check.
func isLanguageList(xl string) bool {
	// The rule's check runs before the schema's maxLength: do not parse
	// what the schema refuses anyway (with the same code).
	if len(xl) > maxLanguageList {
		return false
	}
	if _, ok := simpleTag(xl); ok {
		return true
	}
	_, _, err := language.ParseAcceptLanguage(xl)
	return err == nil
}

// RequestLang is the supported language ("zh" or "en") of the first tag
// of the X-L list xl, in q order, that matches one, or "" when none does
// (no list, "*", only other languages): then the application's default
// language applies, and error messages are in English. A region or script
// still matches its language ("zh-TW" and "zh-Hant-HK" are zh, "en_GB"
// en). Tags are matched one by one rather than as a set, so that the
// user's first choice wins ("zh-HK,en;q=0.8" is zh, where the Matcher
// would prefer the exact en), and a match must share the tag's base
// language (the Matcher offers English for some unknown languages).
func RequestLang(xl string) string {
	if xl == "" {
		return ""
	}
	if lang, ok := simpleTag(xl); ok && lang != "" {
		return lang
	}
	tags, _, err := language.ParseAcceptLanguage(xl)
	if err != nil {
		return ""
	}
	for _, t := range tags {
		_, i, conf := langMatcher.Match(t)
		if conf == language.No || i < 0 || i >= len(langTags) {
			continue
		}
		if b, _ := t.Base(); b != langBases[i] {
			continue
		}
		return langNames[i]
	}
	return ""
}

// langBases are the base languages of langTags.
var langBases = func() []language.Base {
	out := make([]language.Base, len(langTags))
	for i, t := range langTags {
		out[i], _ = t.Base()
	}
	return out
}()

// simpleTag is the fast path for what nearly every client sends: one tag
// of 2-3 letters and subtags of 1-8 letters or digits joined by - or _
// ("zh", "en-US", "zh_CN"), the X-L format before lists were allowed, so
// still accepted as it was. lang is "zh" or "en" when that is its
// primary language, "" for another (which requestLang then matches by
// parsing). It spares the parse's allocations.
func simpleTag(xl string) (lang string, ok bool) {
	primary, rest, _ := strings.Cut(strings.ReplaceAll(xl, "_", "-"), "-")
	if n := len(primary); n < 2 || n > 3 || !allASCII(primary, false) {
		return "", false
	}
	if rest != "" || strings.HasSuffix(xl, "-") || strings.HasSuffix(xl, "_") {
		for sub := range strings.SplitSeq(rest, "-") {
			if n := len(sub); n < 1 || n > 8 || !allASCII(sub, true) {
				return "", false
			}
		}
	}
	switch {
	case strings.EqualFold(primary, LangChinese):
		return LangChinese, true
	case strings.EqualFold(primary, LangEnglish):
		return LangEnglish, true
	}
	return "", true
}

// allASCII reports whether s is ASCII letters (and digits, if digits).
func allASCII(s string, digits bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if !(c >= 'a' && c <= 'z') && !(digits && s[i] >= '0' && s[i] <= '9') {
			return false
		}
	}
	return true
}
