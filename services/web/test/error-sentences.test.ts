/**
 * The web app's sentences are its own words, but the codes they explain belong to the contract:
 * every single sign-on refusal (proto/contracts/sso.ts) and every error code the sign-in and
 * account routes declare (clients/api/openapi.json) has a sentence of its own, not the fallback.
 */
import { readFileSync } from "node:fs";
import { SSO_LOGIN_ERRORS } from "@tdt/proto/contracts/sso";
import { describe, expect, it } from "vitest";
import { ApiError } from "../src/api-error.js";
import { describeError, describeWithProblems, ssoErrorMessage } from "../src/error-messages.js";

/** The routes the login, sign-up, mailed-link and account pages call. */
const ACCOUNT_ROUTES = [
  "/api/v1/auth/login/json",
  "/api/v1/auth/register",
  "/api/v1/auth/verify-email",
  "/api/v1/auth/verify-email/resend",
  "/api/v1/auth/password/forgot",
  "/api/v1/auth/password/reset",
  "/api/v1/auth/invites/accept",
  "/api/v1/auth/invites",
  "/api/v1/auth/me/email",
  "/api/v1/auth/oidc/{provider}/link",
  "/api/v1/auth/oidc/exchange",
];
/** A body the gateway could not read: the app's own mistake, which no person can act on. */
const UNREADABLE = ["bad_request", "malformed_json", "json_too_deep", "unsupported_content_type"];

type Operation = {
  responses: Record<
    string,
    { content?: Record<string, { schema?: { properties?: { detail?: { enum?: string[] } } } }> }
  >;
};

function declaredCodes(): Array<[string, number]> {
  const document = JSON.parse(readFileSync(new URL("../../../clients/api/openapi.json", import.meta.url), "utf8")) as {
    paths: Record<string, Record<string, Operation>>;
  };
  const codes = new Map<string, number>();
  for (const path of ACCOUNT_ROUTES) {
    const operation = document.paths[path]?.post;
    if (!operation) throw new Error(`no POST ${path} in the OpenAPI document`);
    for (const [status, response] of Object.entries(operation.responses)) {
      for (const code of response.content?.["application/json"]?.schema?.properties?.detail?.enum ?? []) {
        if (Number(status) >= 400) codes.set(code, Number(status));
      }
    }
  }
  return [...codes].filter(([code]) => !UNREADABLE.includes(code));
}

describe("error sentences", () => {
  it("has one for every refusal a provider's return can bring", () => {
    const codes = Object.keys(SSO_LOGIN_ERRORS);
    expect(codes.length).toBeGreaterThanOrEqual(11);
    for (const code of codes) expect(ssoErrorMessage(code), code).not.toMatch(/^The sign-in failed\./);
    expect(ssoErrorMessage("made_up")).toBe("The sign-in failed. [made_up]");
  });

  it("has one for every error the account routes declare", () => {
    const codes = declaredCodes();
    expect(codes.map(([code]) => code)).toEqual(
      expect.arrayContaining(["email_not_verified", "invalid_mail_token", "registration_closed", "wrong_password"]),
    );
    for (const [code, status] of codes) {
      expect(describeError(new ApiError(status, code)), code).not.toMatch(/^The request failed/);
    }
  });

  it("tells a 422's problems field by field", () => {
    const error = new ApiError(422, "validation_error", [
      { loc: ["body", "password"], msg: "At least 8 characters", type: "string_too_short" },
    ]);
    expect(describeWithProblems(error)).toBe(
      "Some fields are not valid. [validation_error]\npassword: At least 8 characters",
    );
  });
});
