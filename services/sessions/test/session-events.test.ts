import { describe, expect, it } from "vitest";
import { EVENT_REPORT_MAX_BYTES, reportForEvent } from "../src/session-events.js";

describe("a completion's report in its event", () => {
  it("is the whole Markdown up to 100 KB, and nothing past it (the event then names where to fetch it)", () => {
    const fits = `# Report\n${"x".repeat(EVENT_REPORT_MAX_BYTES - 9)}`;
    expect(Buffer.byteLength(fits)).toBe(EVENT_REPORT_MAX_BYTES);
    expect(reportForEvent(fits)).toBe(fits);
    // Bytes, not characters: a report of many multi-byte characters is measured as it is sent.
    const wide = "é".repeat(EVENT_REPORT_MAX_BYTES / 2 + 1);
    expect(wide.length).toBeLessThan(EVENT_REPORT_MAX_BYTES);
    expect(reportForEvent(wide)).toBe("");
  });
});
