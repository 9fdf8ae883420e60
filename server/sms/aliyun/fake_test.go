package aliyun_test

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/smscode/smscode/server/sms/smstest"
)

// fake is Dysmsapi's SendSms as documented: it checks the common
// parameters (AccessKeyId, Action, Format, Version, SignatureMethod,
// SignatureVersion, a SignatureNonce never seen before, a Timestamp within
// 15 minutes) and the Signature, recomputed from the AccessKey secret with
// the documentation's own percentEncode (URLEncoder, then "+" to %20, "*"
// to %2A, %7E to ~). Then the SendSms parameters: PhoneNumbers (11-digit
// mainland or country-code-first international, no "+"), SignName,
// TemplateCode and a TemplateParam JSON object holding every variable of
// the template. It answers with the documented bodies.
type fake struct {
	g            *smstest.Gateway
	keyID        string
	keySecret    string
	signName     string
	templateCode string
	codeVar      string   // the template's code variable
	vars         []string // all the template's variables

	mu     sync.Mutex
	nonces map[string]bool
}

var (
	mainlandRE = regexp.MustCompile(`^1[0-9]{10}$`)
	intlRE     = regexp.MustCompile(`^[1-9][0-9]{6,14}$`)
)

// docPercentEncode is the documentation's percentEncode, written
// independently of the package's.
func docPercentEncode(s string) string {
	e := url.QueryEscape(s)
	e = strings.ReplaceAll(e, "+", "%20")
	e = strings.ReplaceAll(e, "*", "%2A")
	return strings.ReplaceAll(e, "%7E", "~")
}

func docSignature(method, secret string, form url.Values) (stringToSign, sig string) {
	keys := make([]string, 0, len(form))
	for k := range form {
		if k != "Signature" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var pairs []string
	for _, k := range keys {
		pairs = append(pairs, docPercentEncode(k)+"="+docPercentEncode(form.Get(k)))
	}
	stringToSign = method + "&" + docPercentEncode("/") + "&" + docPercentEncode(strings.Join(pairs, "&"))
	m := hmac.New(sha1.New, []byte(secret+"&"))
	m.Write([]byte(stringToSign))
	return stringToSign, base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func (f *fake) answer(w http.ResponseWriter, status int, body map[string]string) {
	body["RequestId"] = "F655A8D5-B967-440B-8683-DAD6FF8DE990"
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (f *fake) fail(w http.ResponseWriter, status int, code, message string) {
	f.answer(w, status, map[string]string{"Code": code, "Message": message})
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/" || (r.Method != http.MethodPost && r.Method != http.MethodGet) {
		f.fail(w, http.StatusNotFound, "InvalidAction.NotFound", "Specified api is not found.")
		return
	}
	if err := r.ParseForm(); err != nil {
		f.fail(w, http.StatusBadRequest, "InvalidParameter", "Bad form.")
		return
	}
	form := r.Form
	for _, k := range []string{"AccessKeyId", "Action", "Format", "Version", "SignatureMethod", "SignatureVersion",
		"SignatureNonce", "Timestamp", "Signature", "PhoneNumbers", "SignName", "TemplateCode"} {
		if form.Get(k) == "" {
			f.fail(w, http.StatusBadRequest, "MissingParameter", "The input parameter \""+k+"\" that is mandatory for processing this request is not supplied.")
			return
		}
	}
	if form.Get("AccessKeyId") != f.keyID {
		f.fail(w, http.StatusNotFound, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
		return
	}
	if form.Get("Action") != "SendSms" || form.Get("Version") != "2017-05-25" || form.Get("Format") != "JSON" ||
		form.Get("SignatureMethod") != "HMAC-SHA1" || form.Get("SignatureVersion") != "1.0" {
		f.fail(w, http.StatusBadRequest, "InvalidParameter", "Unsupported action, version, format or signature method.")
		return
	}
	ts, err := time.Parse("2006-01-02T15:04:05Z", form.Get("Timestamp"))
	if err != nil || time.Since(ts).Abs() > 15*time.Minute {
		f.fail(w, http.StatusBadRequest, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")
		return
	}
	stringToSign, want := docSignature(r.Method, f.keySecret, form)
	if !hmac.Equal([]byte(form.Get("Signature")), []byte(want)) {
		f.fail(w, http.StatusBadRequest, "SignatureDoesNotMatch",
			"Specified signature is not matched with our calculation. server string to sign is:"+stringToSign)
		return
	}
	f.mu.Lock()
	used := f.nonces[form.Get("SignatureNonce")]
	if f.nonces == nil {
		f.nonces = map[string]bool{}
	}
	f.nonces[form.Get("SignatureNonce")] = true
	f.mu.Unlock()
	if used {
		f.fail(w, http.StatusBadRequest, "SignatureNonceUsed", "Specified signature nonce was used already.")
		return
	}

	phone := form.Get("PhoneNumbers")
	var to string
	switch {
	case mainlandRE.MatchString(phone):
		to = "+86" + phone
	case intlRE.MatchString(phone) && !strings.HasPrefix(phone, "86"):
		to = "+" + phone
	default:
		f.fail(w, http.StatusOK, "isv.MOBILE_NUMBER_ILLEGAL", "invalid mobile number")
		return
	}
	if form.Get("SignName") != f.signName {
		f.fail(w, http.StatusOK, "isv.SMS_SIGNATURE_ILLEGAL", "The SMS signature is illegal.")
		return
	}
	if form.Get("TemplateCode") != f.templateCode {
		f.fail(w, http.StatusOK, "isv.SMS_TEMPLATE_ILLEGAL", "The SMS template is illegal.")
		return
	}
	var vars map[string]string
	if json.Unmarshal([]byte(form.Get("TemplateParam")), &vars) != nil {
		f.fail(w, http.StatusOK, "isv.INVALID_JSON_PARAM", "JSON parameter is invalid.")
		return
	}
	for _, v := range f.vars {
		if vars[v] == "" {
			f.fail(w, http.StatusOK, "isv.TEMPLATE_MISSING_PARAMETERS", "The template is missing parameters.")
			return
		}
	}
	if f.g.Behaviour() == smstest.RefusePermanently {
		f.fail(w, http.StatusOK, "isv.MOBILE_NUMBER_ILLEGAL", "invalid mobile number")
		return
	}
	id := f.g.Accept(smstest.Received{To: to, Code: vars[f.codeVar], Ref: form.Get("OutId")})
	f.answer(w, http.StatusOK, map[string]string{"Code": "OK", "Message": "OK", "BizId": id})
}
