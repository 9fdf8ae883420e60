// Types from the spec: npx openapi-typescript openapi.yaml -o smscode.d.ts
import createClient from "openapi-fetch";
import type { paths } from "./smscode";

const client = createClient<paths>({ baseUrl: "https://api.example.com" });

const { data, error, response } = await client.GET("/api/v2/sdk/captcha/altcha", {
  params: {
    header: {
      "X-operating-sys-version": "Android 10",
      "X-device-fingerprint": "156aysdna213sac",
      "X-device-ip": "10.10.10.1",
      "X-agent": navigator.userAgent,
      "X-L": "zh",
      "X-client-id": "DRrYIqauawN0I8myTMoDTPys6ezGZxnm",
      "X-tenant-id": "08f770f51f80d2f40f38c00cb199fd21",
    },
  },
});
if (error) {
  // every error answer is {error_code, error_msg}; Retry-After on 429 and 503
  console.error(response.status, error.error_code, error.error_msg);
} else {
  console.log("challenge", data.challenge, "maxnumber", data.maxnumber);
}
