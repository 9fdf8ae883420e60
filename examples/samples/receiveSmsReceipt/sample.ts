// Types from the spec: npx openapi-typescript openapi.yaml -o smscode.d.ts
// A gateway behind smscode's webhook provider posts a delivery receipt,
// signed with Standard Webhooks (e.g. the "standardwebhooks" npm package).
import createClient from "openapi-fetch";
import type { paths } from "./smscode";

const client = createClient<paths>({ baseUrl: "https://api.example.com" });

const { error, response } = await client.POST("/api/v2/sdk/sms/receipts/{provider}", {
  params: {
    path: { provider: "webhook" },
    header: {
      "webhook-id": "rcpt_2a9f4c",
      "webhook-timestamp": "1796175000",
      "webhook-signature": "v1,K5oZfzN95Z9UVu1EsfQmfVNQhnkZ2pj9o9NDN/H/pI4=",
      // Twilio's status callbacks carry "X-Twilio-Signature" instead.
      "X-Twilio-Signature": undefined,
    },
  },
  body: { message_id: "team-42", status: "delivered" },
});
if (error) {
  console.error(response.status, error.error_code, error.error_msg);
} else {
  console.log("receipt taken", response.status);
}
