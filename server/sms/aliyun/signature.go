package aliyun

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// PercentEncode encodes s as Alibaba Cloud's RPC signature requires (RFC
// 3986): A-Z, a-z, 0-9, "-", "_", "." and "~" stay; every other byte of
// the UTF-8 form becomes %XY, with upper-case hex digits (so a space is
// %20, never "+").
func PercentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s) * 3 / 2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// CanonicalQuery is the canonicalized query string: every parameter except
// Signature, sorted by name, name and value percent-encoded, joined by "&".
// Only the first value of a parameter counts.
func CanonicalQuery(params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = PercentEncode(k) + "=" + PercentEncode(params.Get(k))
	}
	return strings.Join(parts, "&")
}

// StringToSign is HTTPMethod & percentEncode("/") & percentEncode(the
// canonicalized query string).
func StringToSign(method string, params url.Values) string {
	return method + "&" + PercentEncode("/") + "&" + PercentEncode(CanonicalQuery(params))
}

// Signature is Base64(HMAC-SHA1(AccessKeySecret + "&", StringToSign)), the
// RPC signature version 1.0 (SignatureMethod HMAC-SHA1).
func Signature(method, accessKeySecret string, params url.Values) string {
	m := hmac.New(sha1.New, []byte(accessKeySecret+"&"))
	m.Write([]byte(StringToSign(method, params)))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
