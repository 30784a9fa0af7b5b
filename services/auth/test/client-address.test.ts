import { describe, expect, it } from "vitest";
import { trustedClient } from "../src/client-address.js";

const forwarded = { ip: "203.0.113.5", user_agent: "browser/1.0" };

describe("trustedClient", () => {
  it("believes the gateway's certificate identity, wherever it connects from", () => {
    expect(trustedClient(forwarded, { caller: "gateway", peerAddress: "10.0.0.9" })).toEqual(forwarded);
  });

  it.each(["trees", "sessions", "auth", "intruder"])("counts a %s caller under its own address", (caller) => {
    expect(trustedClient(forwarded, { caller, peerAddress: "10.0.0.9" })).toEqual({ ip: "10.0.0.9", user_agent: "" });
  });

  it("in plaintext believes only a loopback caller", () => {
    expect(trustedClient(forwarded, { caller: undefined, peerAddress: "127.0.0.1" })).toEqual(forwarded);
    expect(trustedClient(forwarded, { caller: undefined, peerAddress: "::1" })).toEqual(forwarded);
    expect(trustedClient(forwarded, { caller: undefined, peerAddress: "192.168.1.20" })).toEqual({
      ip: "192.168.1.20",
      user_agent: "",
    });
  });

  it("gives empty fields when a trusted caller forwards no client", () => {
    expect(trustedClient(undefined, { caller: "gateway", peerAddress: "10.0.0.9" })).toEqual({
      ip: "",
      user_agent: "",
    });
  });
});
