package huawei_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/smscode/smscode/server/sms/smstest"
)

// fake is Huawei Cloud SMS's batchSendSms as its API reference describes
// it: it checks the path, the WSSE Authorization header, the X-WSSE
// UsernameToken (app key, nonce format, Created within ten minutes, and the
// PasswordDigest recomputed from the app secret), the form content type
// and the required fields (from is the configured channel, to is
// "+"-prefixed, templateId, templateParas a JSON array of non-empty
// strings), and answers with the documented bodies.
type fake struct {
	g         *smstest.Gateway
	appKey    string
	appSecret string
	sender    string
	codeIndex int // which template parameter is the code
}

var (
	wsseRE  = regexp.MustCompile(`^UsernameToken Username="([^"]*)",PasswordDigest="([^"]*)",Nonce="([^"]*)",Created="([^"]*)"$`)
	nonceRE = regexp.MustCompile(`^[0-9A-Za-z]{1,128}$`)
	toRE    = regexp.MustCompile(`^\+[0-9]{1,20}$`)
)

func (f *fake) fail(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"code": code, "description": desc})
}

// digest is the PasswordDigest as Huawei's samples compute it:
// Base64 of the hex SHA-256 of nonce+created+secret.
func digest(nonce, created, secret string) string {
	sum := sha256.Sum256([]byte(nonce + created + secret))
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%x", sum)))
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/sms/batchSendSms/v1" {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Authorization") != `WSSE realm="SDP",profile="UsernameToken",type="Appkey"` {
		f.fail(w, http.StatusUnauthorized, "E000001", "Authorization is missing or invalid.")
		return
	}
	m := wsseRE.FindStringSubmatch(r.Header.Get("X-WSSE"))
	if m == nil {
		f.fail(w, http.StatusUnauthorized, "E000007", "X-WSSE is missing or invalid.")
		return
	}
	username, pwDigest, nonce, created := m[1], m[2], m[3], m[4]
	if username != f.appKey {
		f.fail(w, http.StatusUnauthorized, "E000102", "Invalid app_key.")
		return
	}
	t, err := time.Parse("2006-01-02T15:04:05Z", created)
	if !nonceRE.MatchString(nonce) || err != nil || time.Since(t).Abs() > 10*time.Minute {
		f.fail(w, http.StatusUnauthorized, "E000012", "Nonce or Created is invalid.")
		return
	}
	if pwDigest != digest(nonce, created, f.appSecret) {
		f.fail(w, http.StatusUnauthorized, "E000101", "Authentication failed.")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		f.fail(w, http.StatusBadRequest, "E000040", "The ContentType value should be application/x-www-form-urlencoded.")
		return
	}
	if err := r.ParseForm(); err != nil {
		f.fail(w, http.StatusBadRequest, "E000000", "System exception.")
		return
	}
	var paras []string
	to := r.PostForm.Get("to")
	if r.PostForm.Get("from") != f.sender || !toRE.MatchString(to) || r.PostForm.Get("templateId") == "" ||
		json.Unmarshal([]byte(r.PostForm.Get("templateParas")), &paras) != nil || len(paras) <= f.codeIndex {
		f.fail(w, http.StatusBadRequest, "E000503", "Parameter format is incorrect.")
		return
	}
	for _, v := range paras {
		if v == "" {
			f.fail(w, http.StatusBadRequest, "E000503", "Template variable is empty.")
			return
		}
	}
	result := map[string]string{
		"originTo": to, "createTime": time.Now().UTC().Format("2006-01-02T15:04:05Z"), "from": f.sender,
	}
	body := map[string]any{"result": []map[string]string{result}}
	if f.g.Behaviour() == smstest.RefusePermanently {
		body["code"], body["description"] = "E000510", "The SMS fails to be sent. For details, see status."
		result["smsMsgId"], result["status"] = "", "E200025"
	} else {
		id := f.g.Accept(smstest.Received{To: to, Code: paras[f.codeIndex]})
		body["code"], body["description"] = "000000", "Success"
		result["smsMsgId"], result["status"] = id, "000000"
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_ = json.NewEncoder(w).Encode(body)
}
