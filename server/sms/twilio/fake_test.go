package twilio_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/smscode/smscode/server/sms/smstest"
)

// fake is Twilio's Message resource create endpoint as documented: it
// checks the path and its Account SID, HTTP basic auth (the account's auth
// token, or an API key of the account with its secret), the form content
// type, To in E.164, From or MessagingServiceSid, and a Body of 1 to 1600
// characters; it answers 201 with a Message resource, or the documented
// error JSON {code, message, more_info, status}.
type fake struct {
	g          *smstest.Gateway
	accountSID string
	authToken  string
	apiKeySID  string
	apiSecret  string
}

var (
	pathRE = regexp.MustCompile(`^/2010-04-01/Accounts/(AC[0-9a-f]{32})/Messages\.json$`)
	toRE   = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
)

func (f *fake) fail(w http.ResponseWriter, status, code int, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"code": code, "message": message, "status": status,
		"more_info": "https://www.twilio.com/docs/errors/" + itoa(code),
	})
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m := pathRE.FindStringSubmatch(r.URL.Path)
	if m == nil || r.Method != http.MethodPost {
		f.fail(w, http.StatusNotFound, 20404, "The requested resource "+r.URL.Path+" was not found")
		return
	}
	user, pass, ok := r.BasicAuth()
	authed := ok && (user == f.accountSID && pass == f.authToken || f.apiKeySID != "" && user == f.apiKeySID && pass == f.apiSecret)
	if !authed {
		f.fail(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if m[1] != f.accountSID {
		f.fail(w, http.StatusNotFound, 20404, "The requested resource was not found")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		f.fail(w, http.StatusBadRequest, 21620, "Invalid request")
		return
	}
	if err := r.ParseForm(); err != nil {
		f.fail(w, http.StatusBadRequest, 21620, "Invalid request")
		return
	}
	to, from, mgs, body := r.PostForm.Get("To"), r.PostForm.Get("From"), r.PostForm.Get("MessagingServiceSid"), r.PostForm.Get("Body")
	switch {
	case to == "":
		f.fail(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	case !toRE.MatchString(to):
		f.fail(w, http.StatusBadRequest, 21211, "Invalid 'To' Phone Number: "+to)
		return
	case from == "" && mgs == "":
		f.fail(w, http.StatusBadRequest, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message")
		return
	case body == "":
		f.fail(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	case utf8.RuneCountInString(body) > 1600:
		f.fail(w, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	}
	if f.g.Behaviour() == smstest.RefusePermanently {
		f.fail(w, http.StatusBadRequest, 21610, "Attempt to send to unsubscribed recipient "+to)
		return
	}
	sid := f.g.Accept(smstest.Received{To: to, Text: body})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"sid": sid, "account_sid": f.accountSID, "to": to, "from": from, "messaging_service_sid": mgs,
		"body": body, "status": "queued", "num_segments": "1", "direction": "outbound-api",
		"error_code": nil, "error_message": nil, "api_version": "2010-04-01",
	})
}
