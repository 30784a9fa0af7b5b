import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { ssoConfig } from "../src/sso-config.js";
import { SecretBox, StoredProviders } from "../src/sso-provider-store.js";

describe("organizations' client secrets at rest", () => {
  const key = randomBytes(32);
  const box = new SecretBox(key);

  it("are sealed with a fresh IV each time and opened only under the same key", () => {
    const secret = "s3cret-from-the-provider\u0000with a NUL and ünïcode";
    const first = box.seal(secret);
    const second = box.seal(secret);
    expect(first).not.toBe(second);
    expect(first).not.toContain(Buffer.from(secret).toString("base64url").slice(0, 12));
    expect(box.open(first)).toBe(secret);
    expect(box.open(second)).toBe(secret);
    expect(new SecretBox(randomBytes(32)).open(first)).toBeUndefined();
  });

  it("refuse a sealed value that was tampered with, or is not one", () => {
    const sealed = box.seal("value");
    const parts = sealed.split(".");
    const body = Buffer.from(parts[3] ?? "", "base64url");
    body[0] = (body[0] ?? 0) ^ 1;
    const tampered = [parts[0], parts[1], parts[2], body.toString("base64url")].join(".");
    expect(box.open(tampered)).toBeUndefined();
    for (const junk of ["", "v1", "v2.a.b.c", "v1...", "plain-text-secret", "v1.AAAA.BBBB.CCCC"]) {
      expect(box.open(junk), junk).toBeUndefined();
    }
  });
});

describe("OIDC_SECRET_KEY", () => {
  const read = (value: string) => ssoConfig().read({ OIDC_SECRET_KEY: value }).secretKey;

  it("is 32 bytes as hex or base64, and absent when not set", () => {
    const key = randomBytes(32);
    expect(read(key.toString("hex"))).toEqual(key);
    expect(read(key.toString("base64"))).toEqual(key);
    expect(read(key.toString("base64url"))).toEqual(key);
    expect(ssoConfig().read({}).secretKey).toBeUndefined();
    expect(read("  ")).toBeUndefined();
  });

  it("stops the service with the variable's name when it is anything else", () => {
    for (const bad of ["short", randomBytes(16).toString("hex"), randomBytes(33).toString("base64")]) {
      expect(() => read(bad), bad).toThrow(/OIDC_SECRET_KEY.*32 random bytes/);
    }
  });
});

describe("a deployment without OIDC_SECRET_KEY", () => {
  it("refuses to store a provider (503 sso_secret_key_missing) before it touches the database", async () => {
    const stored = new StoredProviders(undefined as never, undefined, new Set(), (id) => id);
    const input = {
      name: "x",
      issuer: "https://idp.example.com",
      client_id: "x",
      client_secret: "y",
      scopes: [],
      allowed_domains: [],
    };
    await expect(stored.create(undefined as never, "org", "idp", input)).rejects.toMatchObject({
      code: "sso_secret_key_missing",
    });
    await expect(stored.update(undefined as never, "org", "idp", input)).rejects.toMatchObject({
      code: "sso_secret_key_missing",
    });
    // And finds none: what was stored under a key is unreadable without it.
    expect(await stored.find("idp")).toBeUndefined();
  });
});
