package huawei_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/huawei"
)

func Example() {
	p, err := huawei.New(huawei.Config{
		Endpoint:       "https://smsapi.cn-north-4.myhuaweicloud.com:443",
		AppKey:         "your-app-key",
		AppSecret:      "your-app-secret",
		Sender:         "8824110605999",
		TemplateID:     "8ff55eac1d0b478ab3c06c3c6a492300",
		TemplateParams: []string{huawei.ParamCode, huawei.ParamMinutes},
	}, huawei.WithHTTPClient(&http.Client{Timeout: 5 * time.Second}))
	if err != nil {
		fmt.Println(err)
		return
	}
	var provider sms.Provider = p
	_ = func(ctx context.Context, msg sms.Message) (sms.Receipt, error) { return provider.Send(ctx, msg) }
	fmt.Println(provider.Name())
	// Output: huawei
}
