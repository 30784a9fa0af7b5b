import { isLoopback, peerHost } from "@tdt/kit";
import { describe, expect, it } from "vitest";

describe("peerHost", () => {
  it.each([
    ["127.0.0.1:50123", "127.0.0.1"],
    ["10.1.2.3:1", "10.1.2.3"],
    ["::1:50123", "::1"],
    ["fe80::1:443", "fe80::1"],
    ["::ffff:127.0.0.1:50123", "127.0.0.1"],
    ["::ffff:10.0.0.7:9", "10.0.0.7"],
    ["unknown", "unknown"],
  ])("takes the host of %s", (peer, host) => {
    expect(peerHost(peer)).toBe(host);
  });
});

describe("isLoopback", () => {
  it.each(["127.0.0.1", "127.8.9.10", "::1"])("%s is loopback", (address) => {
    expect(isLoopback(address)).toBe(true);
  });
  it.each(["10.0.0.1", "0.0.0.0", "::", "128.0.0.1", "127.0.0.1.evil", "unknown", ""])("%s is not", (address) => {
    expect(isLoopback(address)).toBe(false);
  });
});
