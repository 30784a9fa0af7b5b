import { ConfigError } from "@tdt/kit";
import { describe, expect, it } from "vitest";
import { hooksConfig } from "../src/config.js";

const read = <K extends keyof typeof hooksConfig>(key: K, env: Record<string, string>) => hooksConfig[key].read(env);

describe("the hooks service's settings", () => {
  it("WEBHOOK_RESOLVER: a DNS server's IP address, with a port or not", () => {
    expect(read("webhookResolver", {})).toBeUndefined();
    for (const given of ["10.0.0.2", "10.0.0.2:5353", "[fd00::2]:53", "[fd00::2]", "fd00::2"]) {
      expect(read("webhookResolver", { WEBHOOK_RESOLVER: given })).toBe(given);
    }
    for (const given of ["dns.example", "10.0.0.2:99999", "10.0.0.2:", "[fd00::2"]) {
      expect(() => read("webhookResolver", { WEBHOOK_RESOLVER: given }), given).toThrow(ConfigError);
    }
  });

  it("WEBHOOK_RETRY_SCHEDULE: whole seconds, comma-separated; Standard Webhooks' by default", () => {
    expect(read("webhookRetryWaitsMs", {})).toEqual([
      5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
    ]);
    expect(read("webhookRetryWaitsMs", { WEBHOOK_RETRY_SCHEDULE: "1, 2,30" })).toEqual([1_000, 2_000, 30_000]);
    for (const given of ["0", "1,,2", "1.5", "-1", Array.from({ length: 21 }, () => "1").join(",")]) {
      expect(() => read("webhookRetryWaitsMs", { WEBHOOK_RETRY_SCHEDULE: given }), given).toThrow(ConfigError);
    }
  });

  it("WEBHOOK_ALLOW_PRIVATE: CIDRs, the first that is not one named", () => {
    expect(read("webhookAllowPrivate", {})).toEqual([]);
    expect(read("webhookAllowPrivate", { WEBHOOK_ALLOW_PRIVATE: "127.0.0.0/8, fd00::/8" })).toEqual([
      "127.0.0.0/8",
      "fd00::/8",
    ]);
    expect(() => read("webhookAllowPrivate", { WEBHOOK_ALLOW_PRIVATE: "127.0.0.0/8,loopback" })).toThrow(/loopback/);
  });
});
