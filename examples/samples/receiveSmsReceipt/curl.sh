curl -X POST 'https://api.example.com/api/v2/sdk/sms/receipts/huawei?token=q3JxN0wYp5Qm8dZr2TfK7vHs' \
  -H 'Content-Type: application/x-www-form-urlencoded' \
  --data-raw 'smsMsgId=1b7c9a4e-2f3d-4c8b-9e6a-5d4c3b2a1f0e_8&total=1&sequence=1&status=DELIVRD&source=2&updateTime=2026-12-02T01%3A50%3A00Z&orgCode=DELIVRD'
