/**
 * The gateway's response schemas and the gRPC messages they carry must not drift: every field a
 * message has is documented and sent, and the schema promises nothing the message lacks.
 */
import { LoginSession, SessionPolicy, TokenPair, User } from "@tdt/proto/tdt/auth/v1/auth";
import { Session, Step } from "@tdt/proto/tdt/sessions/v1/sessions";
import { Node, Option, Tree, TreeSummary, TreeVersion } from "@tdt/proto/tdt/trees/v1/trees";
import { describe, expect, it } from "vitest";
import { LoginSessionSchema, SessionPolicySchema, TokenPairSchema, UserSchema } from "../src/schemas/auth.js";
import { SessionSchema, SessionStepSchema } from "../src/schemas/sessions.js";
import { NodeSchema, OptionSchema, TreeSchema, TreeSummarySchema, TreeVersionSchema } from "../src/schemas/trees.js";

/** Every field of a ts-proto message (its empty message lists optional fields too). */
function fieldsOf(message: { fromPartial(object: object): object }): string[] {
  return Object.keys(message.fromPartial({})).sort();
}

function schemaFields(schema: { properties?: object }): string[] {
  return Object.keys(schema.properties ?? {}).sort();
}

describe("gateway schemas follow the contracts", () => {
  it.each([
    ["User", User, UserSchema],
    ["TokenPair", TokenPair, TokenPairSchema],
    ["LoginSession", LoginSession, LoginSessionSchema],
    ["SessionPolicy", SessionPolicy, SessionPolicySchema],
    ["Option", Option, OptionSchema],
    ["Node", Node, NodeSchema],
    ["Tree", Tree, TreeSchema],
    ["TreeSummary", TreeSummary, TreeSummarySchema],
    ["TreeVersion", TreeVersion, TreeVersionSchema],
    ["Step", Step, SessionStepSchema],
    ["Session", Session, SessionSchema],
  ] as const)("%s", (_name, message, schema) => {
    expect(schemaFields(schema as { properties?: object })).toEqual(fieldsOf(message));
  });
});
