package aliyun_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/smscode/smscode/server/sms/aliyun"
)

func Example() {
	p, err := aliyun.New(aliyun.Config{
		AccessKeyID:     "LTAI...",
		AccessKeySecret: "your-secret",
		SignName:        "YourSignName",
		TemplateCode:    "SMS_154950909",
		// The template reads ${code} and ${min}.
		TemplateParams: map[string]string{"code": aliyun.ParamCode, "min": aliyun.ParamMinutes},
	}, aliyun.WithHTTPClient(&http.Client{Timeout: 5 * time.Second}))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p.Name())
	phone, _ := aliyun.PhoneNumber("+8613800138000")
	fmt.Println(phone)
	// Output:
	// aliyun
	// 13800138000
}
