import { describe, expect, it } from "vitest";
import { readConfig, shared } from "../src/config.js";

const read = (env: Record<string, string>) =>
  readConfig({ dir: shared.jwksCacheDir, maxAge: shared.jwksCacheMaxAgeSeconds }, env);

describe("where the signing-key cache lives", () => {
  it("is this user's state directory by default, never the shared temporary one", () => {
    expect(read({ HOME: "/home/ada" }).dir).toBe("/home/ada/.local/state/tdt/jwks");
    expect(read({ HOME: "/home/ada", XDG_STATE_HOME: "/var/state/ada" }).dir).toBe("/var/state/ada/tdt/jwks");
    // The XDG specification: a relative XDG_STATE_HOME is ignored.
    expect(read({ HOME: "/home/ada", XDG_STATE_HOME: "state" }).dir).toBe("/home/ada/.local/state/tdt/jwks");
  });

  it("is JWKS_CACHE_DIR when set, which must be an absolute path", () => {
    expect(read({ HOME: "/home/ada", JWKS_CACHE_DIR: "/tmp/tdt-jwks" }).dir).toBe("/tmp/tdt-jwks");
    expect(() => read({ JWKS_CACHE_DIR: "cache/jwks" })).toThrow(
      'JWKS_CACHE_DIR must be an absolute path, got "cache/jwks"',
    );
  });

  it("trusts kept keys for a day unless JWKS_CACHE_MAX_AGE_SECONDS says otherwise", () => {
    expect(read({ HOME: "/home/ada" }).maxAge).toBe(86_400);
    expect(read({ HOME: "/home/ada", JWKS_CACHE_MAX_AGE_SECONDS: "3600" }).maxAge).toBe(3600);
    expect(() => read({ HOME: "/home/ada", JWKS_CACHE_MAX_AGE_SECONDS: "10" })).toThrow(
      "JWKS_CACHE_MAX_AGE_SECONDS must be between 60 and 2592000, got 10",
    );
  });
});
