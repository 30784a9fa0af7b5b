import { describe, expect, it } from "vitest";
import { loggableUrl } from "../src/edge/loggable-url.js";

describe("a URL as the request log shows it", () => {
  it("keeps paths and harmless parameters, and redacts every secret's value", () => {
    expect(loggableUrl("/api/v1/trees?category=Printers&limit=5")).toBe("/api/v1/trees?category=Printers&limit=5");
    expect(loggableUrl("/?code=abc123")).toBe("/?code=[redacted]");
    expect(loggableUrl("/verify-email?token=t0k3n&x=1")).toBe("/verify-email?token=[redacted]&x=1");
    expect(loggableUrl("/p?refresh_token=r&id_token=i&state=s&session_state=q")).toBe(
      "/p?refresh_token=[redacted]&id_token=[redacted]&state=[redacted]&session_state=[redacted]",
    );
    // Spelled otherwise, encoded, or without a value.
    expect(loggableUrl("/?CODE=a&%74oken=b&code")).toBe("/?CODE=[redacted]&%74oken=[redacted]&code");
    expect(loggableUrl("/health")).toBe("/health");
  });
});
