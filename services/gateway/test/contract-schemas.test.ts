/**
 * What the gateway derives from the contract's messages (api/contract-schemas.ts): a route's
 * schemas as google.api.http maps its messages, and an RPC request with proto3's zero values
 * where the HTTP request left a field out.
 */
import { ChangeEmailRequest, SetPasswordRequest } from "@tdt/proto/tdt/auth/v1/auth";
import { HTTP_ROUTES } from "@tdt/proto/tdt/contract";
import { describe, expect, it } from "vitest";
import { completeRequest, derivedSchemas, requestSchema } from "../src/api/contract-schemas.js";

const routeOf = (rpc: string) => {
  const route = HTTP_ROUTES.find((entry) => entry.rpc === rpc);
  if (!route) throw new Error(`no route for ${rpc}`);
  return { ...route, bodyField: route.body };
};

describe("a route's derived schemas", () => {
  it("take the path's fields as params, and the response_body field as the body", () => {
    const derived = derivedSchemas(routeOf("revokeLoginSession"));
    expect(derived.params).toEqual({
      type: "object",
      required: ["sid"],
      properties: { sid: { type: "string", format: "uuid" } },
    });
    expect(derivedSchemas(routeOf("listLoginSessions")).response).toMatchObject({
      type: "array",
      items: { $ref: "LoginSession#" },
    });
  });

  it("take a body's fields but the path's, refusing others and requiring what the proto marks required", () => {
    const derived = derivedSchemas(routeOf("updateUser"));
    const body = derived.body as { properties: object; additionalProperties: boolean };
    expect(Object.keys(body.properties)).not.toContain("id");
    expect(body.additionalProperties).toBe(false);
    expect(requestSchema("tdt.auth.v1.SetPasswordRequest")).toMatchObject({ required: ["new_password"] });
  });

  it("show no response for a 204", () => {
    expect(derivedSchemas(routeOf("setPassword")).response).toBeUndefined();
  });
});

const nowhere = () => {
  throw new Error("no ClientInfo in this request");
};

describe("an RPC request completed from its message", () => {
  it("sends an absent string as proto3's empty string, not the text 'undefined'", () => {
    const sent = completeRequest("tdt.auth.v1.ChangeEmailRequest", { email: "ada@example.com" }, nowhere);
    const received = ChangeEmailRequest.decode(ChangeEmailRequest.encode(sent as ChangeEmailRequest).finish());
    expect(received.current_password).toBe("");
    // What the completion prevents: ts-proto's encoding of the bare request.
    const bare = ChangeEmailRequest.decode(
      ChangeEmailRequest.encode({ email: "ada@example.com" } as ChangeEmailRequest).finish(),
    );
    expect(bare.current_password).toBe("undefined");
  });

  it("says where the call comes from in a ClientInfo field, which no request schema shows", () => {
    const client = { user_agent: "curl/8", ip: "203.0.113.7" };
    const sent = completeRequest("tdt.auth.v1.LoginRequest", { email: "a@example.com", password: "x" }, () => client);
    expect(sent).toMatchObject({ client });
    expect(Object.keys((requestSchema("tdt.auth.v1.LoginRequest") as { properties: object }).properties)).toEqual([
      "email",
      "password",
    ]);
  });

  it("keeps what was given and leaves optional fields out", () => {
    const sent = completeRequest("tdt.auth.v1.SetPasswordRequest", { new_password: "battery staple horse" }, nowhere);
    expect(sent).toEqual({ new_password: "battery staple horse", current_password: "" });
    expect(SetPasswordRequest.decode(SetPasswordRequest.encode(sent as SetPasswordRequest).finish())).toEqual(sent);
    const update = completeRequest("tdt.auth.v1.UpdateUserRequest", { id: "x", role: "admin" }, nowhere);
    expect(update).toEqual({ id: "x", role: "admin" });
  });
});
