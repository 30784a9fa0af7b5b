import { type AccessTable, hasRole } from "@tdt/proto/contracts/access";
import { describe, expect, it } from "vitest";
import { AppError } from "../src/grpc/errors.js";
import type { AccessClaims, Role } from "../src/tokens/access-tokens.js";
import { authorizer } from "../src/tokens/authorization.js";

const claimsOf = (role: Role): AccessClaims => ({ sub: "u", sid: "s", role, org: "o", jti: "j", iat: 0, exp: 0 });

/** A verifier for unit tests: the token is the role; none is a 401. */
const verifier = {
  verify: async (token: string | undefined) => {
    if (!token) throw new AppError("not_authenticated");
    return claimsOf(token as Role);
  },
};

type Demo = { open: unknown; read: unknown; write: unknown; purge: unknown };
const TABLE: AccessTable<Demo> = { open: "public", read: "user", write: "engineer", purge: "admin" };

describe("hasRole", () => {
  it("orders the roles technician < engineer < admin", () => {
    const allowed = (["technician", "engineer", "admin"] as const).map((role) =>
      (["technician", "engineer", "admin"] as const).filter((minimum) => hasRole({ role }, minimum)),
    );
    expect(allowed).toEqual([["technician"], ["technician", "engineer"], ["technician", "engineer", "admin"]]);
  });
});

describe("authorizer", () => {
  const authorize = authorizer(verifier, TABLE);
  const kindOf = (work: Promise<unknown>) =>
    work.then(
      () => "allowed",
      (error: AppError) => error.code,
    );

  it("checks the role floor the table names for the RPC", async () => {
    expect(await kindOf(authorize("read", { accessToken: undefined }))).toBe("not_authenticated");
    expect(await kindOf(authorize("read", { accessToken: "technician" }))).toBe("allowed");
    expect(await kindOf(authorize("write", { accessToken: "technician" }))).toBe("forbidden");
    expect(await kindOf(authorize("write", { accessToken: "admin" }))).toBe("allowed");
    expect(await kindOf(authorize("purge", { accessToken: "engineer" }))).toBe("forbidden");
    expect((await authorize("purge", { accessToken: "admin" })).role).toBe("admin");
  });

  it("refuses to authorize a public RPC: it has no caller to check", async () => {
    await expect(authorize("open", { accessToken: "admin" })).rejects.toThrow(/open is public/);
  });
});
