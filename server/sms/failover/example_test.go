package failover_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/smscode/smscode/server/sms"
	"github.com/smscode/smscode/server/sms/failover"
	"github.com/smscode/smscode/server/sms/smstest"
)

func Example() {
	primary, secondary := smstest.NewGateway(), smstest.NewGateway()
	primary.Set(smstest.ServerError) // the primary is down

	f, err := failover.New(
		[]sms.Provider{smstest.NewFake("huawei", primary), smstest.NewFake("aliyun", secondary)},
		failover.Config{Timeout: 3 * time.Second, FailureThreshold: 5, OpenFor: 30 * time.Second},
		prometheus.NewRegistry(), nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	rec, err := f.Send(context.Background(), sms.Message{ID: "msg_1", To: "+8613800138000", Code: "123456"})
	switch {
	case errors.Is(err, sms.ErrPermanent):
		fmt.Println("SMS.0008")
	case errors.Is(err, failover.ErrAllFailed):
		fmt.Println("SMS.0007")
	case err == nil:
		fmt.Println("sent by", rec.Provider)
	}
	// Output: sent by aliyun
}
