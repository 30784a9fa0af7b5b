import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { keyOf, newSecret, signature, webhookHeaders } from "../src/signing.js";

const body = JSON.stringify({
  specversion: "1.0",
  id: "evt_1",
  type: "tdt.session.completed",
  data: { ok: "ü\u0000" },
});
const now = () => Math.floor(Date.now() / 1000);

describe("Standard Webhooks signatures", () => {
  it("verify with the specification's own library, under the secret given at creation", () => {
    const secret = newSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{32}$/);
    const headers = webhookHeaders([secret], "evt_1", now(), body);
    expect(new Webhook(secret).verify(body, headers)).toEqual(JSON.parse(body));
  });

  it("carry one signature per secret during a rotation's overlap, each verifying on its own", () => {
    const [newer, older] = [newSecret(), newSecret()];
    const headers = webhookHeaders([newer, older], "evt_2", now(), body);
    expect(headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect(new Webhook(newer).verify(body, headers)).toBeTruthy();
    expect(new Webhook(older).verify(body, headers)).toBeTruthy();
    // A third secret, or a changed body, id or timestamp, verifies nothing.
    expect(() => new Webhook(newSecret()).verify(body, headers)).toThrow(WebhookVerificationError);
    expect(() => new Webhook(newer).verify(`${body} `, headers)).toThrow(WebhookVerificationError);
    expect(() => new Webhook(newer).verify(body, { ...headers, "webhook-id": "evt_3" })).toThrow(
      WebhookVerificationError,
    );
  });

  it("are the HMAC-SHA256 of id.timestamp.body, as the specification's example gives", () => {
    // https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
    const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const signed = signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}');
    expect(signed).toBe("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
  });

  it("refuse a secret that is not a whsec_ one", () => {
    expect(keyOf("not-a-secret")).toBeUndefined();
    expect(keyOf("whsec_c2hvcnQ=")).toBeUndefined();
    expect(() => webhookHeaders([], "id", 1, body)).toThrow();
    expect(() => signature("plain", "id", 1, body)).toThrow();
  });
});
