import { describe, expect, it } from "vitest";
import { normalizeEmail } from "../src/email-address.js";
import { mayLinkByEmail, ownsDomain } from "../src/sso-login.js";

describe("linking a sign-in to an existing account by its email", () => {
  const verified = { role: "technician", email_verified_at: new Date() } as const;
  const owner = { allowed_domains: ["corp.example"] };

  it("is allowed only when the provider owns the domain, the address is proven and the account is not an admin's", () => {
    expect(mayLinkByEmail(owner, verified, "ada@corp.example")).toBe(true);
    // A provider open to every domain asserts emails it does not own.
    expect(mayLinkByEmail({ allowed_domains: undefined }, verified, "ada@corp.example")).toBe(false);
    expect(mayLinkByEmail(owner, verified, "ada@other.example")).toBe(false);
    // Pre-hijacking: an address someone registered without proving it.
    expect(mayLinkByEmail(owner, { ...verified, email_verified_at: null }, "ada@corp.example")).toBe(false);
    // Never automatically to an admin.
    expect(mayLinkByEmail(owner, { ...verified, role: "admin" }, "ada@corp.example")).toBe(false);
  });

  it("is never allowed to an organization's provider, whatever domains its admin gave it", () => {
    const organizations = { allowed_domains: ["corp.example"], organization: "7c9e6679-7425-40de-944b-e07fc1f90ae7" };
    expect(mayLinkByEmail(organizations, verified, "ada@corp.example")).toBe(false);
    expect(ownsDomain(organizations, "ada@corp.example")).toBe(false);
    expect(ownsDomain(owner, "ada@corp.example")).toBe(true);
  });

  it("compares emails trimmed, in NFC and lower case", () => {
    expect(normalizeEmail("  ADMIN@TDT.EXAMPLE ")).toBe("admin@tdt.example");
    expect(normalizeEmail("Jose\u0301@example.com")).toBe(normalizeEmail("jos\u00e9@EXAMPLE.com"));
  });
});
