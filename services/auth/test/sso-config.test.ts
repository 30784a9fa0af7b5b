import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { ConfigError } from "@tdt/kit";
import { describe, expect, it } from "vitest";
import { ssoConfig } from "../src/sso-config.js";

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL("../dist/main.js", import.meta.url));

const GOOD = {
  id: "okta",
  issuer: "https://example.okta.com",
  client_id: "tdt",
  client_secret: "a-very-secret-value",
};

const read = (env: Record<string, string>) => ssoConfig().read(env);
const problemOf = (env: Record<string, string>) => {
  try {
    read(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  return "no problem";
};
const providers = (...entries: unknown[]) => ({ OIDC_PROVIDERS: JSON.stringify(entries) });

describe("single sign-on settings", () => {
  it("reads a provider with its defaults, and PUBLIC_URL's origin as the one return origin", () => {
    const config = read({ ...providers(GOOD), PUBLIC_URL: "https://tdt.example.com/" });
    expect(config.providers).toEqual([
      {
        ...GOOD,
        name: "okta",
        scopes: ["openid", "email", "profile"],
        default_role: "technician",
        allowed_domains: undefined,
      },
    ]);
    expect(config.publicUrl).toBe("https://tdt.example.com");
    expect(config.returnOrigins).toEqual(["https://tdt.example.com"]);
    expect(config.postLogoutUrl).toBe("https://tdt.example.com/");
  });

  it("has no providers and the local gateway as its public URL when nothing is set", () => {
    expect(read({})).toEqual({
      providers: [],
      publicUrl: "http://localhost:8000",
      returnOrigins: ["http://localhost:8000"],
      postLogoutUrl: "http://localhost:8000/",
    });
  });

  it("reads the list from OIDC_PROVIDERS_FILE, and refuses both ways at once", () => {
    const file = join(mkdtempSync(join(tmpdir(), "tdt-sso-")), "providers.json");
    writeFileSync(file, JSON.stringify([{ ...GOOD, default_role: "engineer", allowed_domains: ["Example.COM"] }]));
    const [provider] = read({ OIDC_PROVIDERS_FILE: file }).providers;
    expect(provider?.default_role).toBe("engineer");
    expect(provider?.allowed_domains).toEqual(["example.com"]);
    expect(problemOf({ OIDC_PROVIDERS_FILE: file, ...providers(GOOD) })).toBe(
      "OIDC_PROVIDERS_FILE cannot be set with OIDC_PROVIDERS: use one of them",
    );
    expect(problemOf({ OIDC_PROVIDERS_FILE: `${file}.missing` })).toBe(
      `OIDC_PROVIDERS_FILE cannot be read: "${file}.missing"`,
    );
  });

  it.each([
    [
      { ...GOOD, issuer: "http://idp.example.com" },
      'entry 1 ("okta"): issuer must use https (plain http only on this machine), got "http://idp.example.com"',
    ],
    [{ ...GOOD, issuer: "not a url" }, 'entry 1 ("okta"): issuer must be a URL, got "not a url"'],
    [{ ...GOOD, client_secret: "" }, 'entry 1 ("okta"): client_secret is required'],
    [{ ...GOOD, client_secert: "typo" }, 'entry 1 ("okta"): has an unknown field "client_secert"'],
    [
      { ...GOOD, id: "Okta!" },
      "entry 1 (\"Okta!\"): id must be 1–64 lowercase letters, digits, '-' or '_', starting with a letter or digit",
    ],
    [{ ...GOOD, scopes: ["email"] }, 'entry 1 ("okta"): scopes must include "openid"'],
    [{ ...GOOD, default_role: "root" }, 'entry 1 ("okta"): default_role must be one of technician, engineer, admin'],
    [
      { ...GOOD, allowed_domains: ["not a domain"] },
      'entry 1 ("okta"): allowed_domains has "not a domain", which is not a domain name',
    ],
    ["okta", "entry 1: must be an object"],
  ])("refuses %o with one line naming the entry", (entry, problem) => {
    expect(problemOf(providers(entry))).toBe(`OIDC_PROVIDERS ${problem}`);
  });

  it("refuses a list that is not JSON, not a list, or names one id twice; never echoing a secret", () => {
    expect(problemOf({ OIDC_PROVIDERS: "[{" })).toBe(
      "OIDC_PROVIDERS must be a JSON list of providers, and is not valid JSON",
    );
    expect(problemOf({ OIDC_PROVIDERS: "{}" })).toBe("OIDC_PROVIDERS must be a JSON list of providers");
    expect(problemOf(providers(GOOD, GOOD))).toBe('OIDC_PROVIDERS entry 2 ("okta"): id is used by an earlier entry');
    const problems = [
      problemOf(providers({ ...GOOD, issuer: "ftp://x" })),
      problemOf(providers({ ...GOOD, client_id: "" })),
    ];
    for (const problem of problems) expect(problem).not.toContain(GOOD.client_secret);
  });

  it("allows plain http only for an issuer on this machine", () => {
    for (const issuer of ["http://127.0.0.1:9400", "http://localhost:9400/realms/tdt", "http://[::1]:9400"]) {
      expect(read(providers({ ...GOOD, issuer })).providers[0]?.issuer).toBe(issuer);
    }
  });

  it("reads return origins as origins, and refuses a path", () => {
    expect(read({ OIDC_RETURN_ORIGINS: "https://app.example.com, http://localhost:5173" }).returnOrigins).toEqual([
      "https://app.example.com",
      "http://localhost:5173",
    ]);
    expect(problemOf({ OIDC_RETURN_ORIGINS: "https://app.example.com/login" })).toBe(
      'OIDC_RETURN_ORIGINS must list origins such as https://app.example.com (no path), got "https://app.example.com/login"',
    );
  });

  it("stops auth at start with one line naming the bad entry", async () => {
    const result = await run(process.execPath, [MAIN], {
      env: {
        ...process.env,
        AUTH_DATABASE_URL: "postgres://postgres@127.0.0.1:1/never",
        OIDC_PROVIDERS: JSON.stringify([GOOD, { ...GOOD, id: "entra", client_secret: undefined }]),
      },
      timeout: 20_000,
    }).then(
      (done) => ({ code: 0, ...done }),
      (failed: { code: number; stdout: string; stderr: string }) => failed,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('configuration error: OIDC_PROVIDERS entry 2 ("entra"): client_secret is required\n');
  });
});
