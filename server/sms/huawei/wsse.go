package huawei

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"
)

// AuthorizationHeader is the fixed Authorization value of WSSE requests.
const AuthorizationHeader = `WSSE realm="SDP",profile="UsernameToken",type="Appkey"`

// CreatedLayout is the layout of the WSSE Created field (UTC).
const CreatedLayout = "2006-01-02T15:04:05Z"

// PasswordDigest is the WSSE PasswordDigest of Huawei Cloud SMS:
// Base64(SHA256(Nonce + Created + AppSecret)), where, as in Huawei's
// request example and every official code sample, the SHA-256 is taken as
// its lowercase hex string before Base64 (the example header's digest
// "NDA1MWIw..." decodes to 64 hex digits).
func PasswordDigest(nonce, created, appSecret string) string {
	sum := sha256.Sum256([]byte(nonce + created + appSecret))
	return base64.StdEncoding.EncodeToString([]byte(hex.EncodeToString(sum[:])))
}

// wsseHeader returns the X-WSSE value for appKey at now, with a fresh
// 32-hex-digit nonce.
func wsseHeader(appKey, appSecret string, now time.Time) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	nonce := hex.EncodeToString(b[:])
	created := now.UTC().Format(CreatedLayout)
	return fmt.Sprintf(`UsernameToken Username="%s",PasswordDigest="%s",Nonce="%s",Created="%s"`,
		appKey, PasswordDigest(nonce, created, appSecret), nonce, created), nil
}
