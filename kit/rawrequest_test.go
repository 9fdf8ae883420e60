package kit_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/smscode/smscode/gen/genserver"
	"github.com/smscode/smscode/kit"
)

// An operation marked x-raw-request (the delivery receipts, which gateways
// post without the app headers, in their own body formats) passes the
// validator untouched, body included, while the other operations are
// still checked.
func TestRawRequestPassesValidator(t *testing.T) {
	spec, err := genserver.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	validate, err := kit.NewValidator(spec)
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.HTTPErrorHandler = kit.ErrorHandler(nil, nil)
	var body string
	e.POST("/api/v2/sdk/sms/receipts/:provider", func(c echo.Context) error {
		b, _ := io.ReadAll(c.Request().Body)
		body = string(b)
		return c.NoContent(http.StatusNoContent)
	}, validate)
	e.POST("/api/v2/sdk/sms/send", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }, validate)

	const form = "smsMsgId=x_1&status=DELIVRD"
	req := httptest.NewRequest(http.MethodPost, "/api/v2/sdk/sms/receipts/huawei?token=t", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent || body != form {
		t.Errorf("receipt: %d, handler read %q; want 204 and the body untouched", rec.Code, body)
	}

	req = httptest.NewRequest(http.MethodPost, "/api/v2/sdk/sms/send", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("a send without headers: %d %s, want 400", rec.Code, rec.Body)
	}
}
