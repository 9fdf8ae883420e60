curl -X POST 'https://api.example.com/api/v2/sdk/sms/send' \
  -H 'Content-Type: application/json;charset=utf8' \
  -H 'X-operating-sys-version: Android 10' \
  -H 'X-device-fingerprint: 156aysdna213sac' \
  -H 'X-device-ip: 10.10.10.1' \
  -H 'X-agent: Mozilla/5.0 (Linux; Android 10; Redmi K30 Build/QKQ1.190825.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/80.0.3987.99 Mobile Safari/537.36' \
  -H 'X-L: zh' \
  -H 'X-client-id: DRrYIqauawN0I8myTMoDTPys6ezGZxnm' \
  -H 'X-tenant-id: 08f770f51f80d2f40f38c00cb199fd21' \
  --data-raw '{
  "mobile": "12345678901",
  "type": "BIND_MOBILE_SMS",
  "captcha_token": "71d******635---{\"x\":237.0,\"y\":5.0}"
}'
