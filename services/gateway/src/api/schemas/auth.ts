import { ENUMS } from "@tdt/proto/tdt/contract";
import { sharedSchema } from "../contract-schemas.js";
import { bounds, ref, timestamp } from "./common.js";
import { EXAMPLES } from "./examples.js";

/** The shapes of SPEC §4.1, shared by the auth routes and documented once in OpenAPI. */

/** The closed lists are the contract's (enums in auth.proto); ROLES is tdt.auth.v1.Role. */
export const PRESETS = ENUMS["tdt.auth.v1.SessionPolicyPreset"].values;

export const UserSchema = sharedSchema("tdt.auth.v1.User") as { required: string[]; properties: object };

/** GET /auth/me: the user, the providers they sign in with, and whether they have a password. */
export const MeSchema = {
  $id: "Me",
  type: "object",
  examples: [EXAMPLES.me],
  required: [
    ...UserSchema.required,
    "linked_providers",
    "has_password",
    "email_verified",
    "organization",
    "is_platform_admin",
  ],
  properties: {
    ...UserSchema.properties,
    linked_providers: {
      type: "array",
      items: {
        type: "object",
        required: ["provider", "email", "linked_at"],
        properties: {
          provider: { type: "string", description: "The provider's id" },
          email: { type: "string", description: "The email the provider gave when the link was made" },
          linked_at: timestamp,
        },
      },
    },
    has_password: {
      type: "boolean",
      description: "False for a user made by single sign-on who has not set one: password login is refused",
    },
    email_verified: {
      type: "boolean",
      description: "The address is proven: a mailed link was followed, an invitation accepted, or a provider vouched",
    },
    organization: {
      ...ref("Organization"),
      description: "The organization the access token acts in (its `org` claim); `role` above is the user's role there",
    },
    is_platform_admin: { type: "boolean", description: "The user manages organizations" },
  },
} as const;

/** An invitation as sent: the link goes to the address by mail, never into the answer. */
export const InviteSchema = sharedSchema("tdt.auth.v1.Invite");

/** The answer of a request that mails a named address: the same whatever the address. */
export const MailSentSchema = {
  $id: "MailSent",
  type: "object",
  examples: [{ detail: "verification_sent" }],
  required: ["detail"],
  properties: {
    detail: {
      type: "string",
      enum: ["verification_sent", "reset_sent"],
      description:
        "What the mail (if the address gets one) is about; the answer does not say whether it has an account",
    },
  },
} as const;

export const OidcProviderSchema = sharedSchema("tdt.auth.v1.OidcProvider");

export const TokenPairSchema = {
  $id: "TokenPair",
  type: "object",
  examples: [EXAMPLES.tokenPair],
  required: ["access_token", "token_type", "expires_in"],
  properties: {
    access_token: { type: "string" },
    refresh_token: {
      type: "string",
      description: "Absent in cookie mode (`X-Token-Transport: cookie`): it is then in the cookie `tdt_refresh`",
    },
    token_type: { type: "string", enum: ["bearer"] },
    expires_in: { type: "integer", description: "Lifetime of the access token in seconds" },
  },
} as const;

export const LoginSessionSchema = sharedSchema("tdt.auth.v1.LoginSession");

export const SessionPolicySchema = sharedSchema("tdt.auth.v1.SessionPolicy");

const seconds = (field: string) => ({ type: "integer", ...bounds("tdt.auth.v1.SetSessionPolicyRequest", field) });

/** The policy an admin chooses: a named preset, or `custom` with its three limits (named, for the discriminator). */
export const PresetSessionPolicySchema = {
  $id: "PresetSessionPolicy",
  type: "object",
  description: "One of the named presets, with its own limits.",
  additionalProperties: false,
  required: ["preset"],
  properties: { preset: { type: "string", enum: PRESETS.filter((preset) => preset !== "custom") } },
} as const;

export const CustomSessionPolicySchema = {
  $id: "CustomSessionPolicy",
  type: "object",
  description: "Limits of your own: idle ≤ absolute ≤ 365 days, a reuse grace of at most 300 s.",
  additionalProperties: false,
  required: ["preset", "idle_max_seconds", "abs_max_seconds", "reuse_grace_seconds"],
  properties: {
    preset: { type: "string", const: "custom" },
    idle_max_seconds: seconds("idle_max_seconds"),
    abs_max_seconds: seconds("abs_max_seconds"),
    reuse_grace_seconds: seconds("reuse_grace_seconds"),
  },
} as const;

export const SessionPolicyChoiceSchema = {
  $id: "SessionPolicyChoice",
  type: "object",
  description: "A named preset, or `custom` with its three limits.",
  required: ["preset"],
  discriminator: { propertyName: "preset" },
  examples: [
    { preset: "strict" },
    { preset: "custom", idle_max_seconds: 3600, abs_max_seconds: 86400, reuse_grace_seconds: 0 },
  ],
  oneOf: [ref("PresetSessionPolicy"), ref("CustomSessionPolicy")],
} as const;

export const JwksSchema = {
  $id: "Jwks",
  type: "object",
  examples: [
    {
      keys: [
        {
          kty: "EC",
          kid: "2026-11-01",
          alg: "ES256",
          use: "sig",
          crv: "P-256",
          x: "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
          y: "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
        },
      ],
    },
  ],
  required: ["keys"],
  properties: {
    keys: {
      type: "array",
      // Public members only: a private member (`d`, ...) never leaves, whatever the service sends.
      items: {
        type: "object",
        required: ["kty", "kid"],
        properties: {
          kty: { type: "string" },
          kid: { type: "string" },
          alg: { type: "string" },
          use: { type: "string" },
          crv: { type: "string" },
          x: { type: "string" },
          y: { type: "string" },
          n: { type: "string" },
          e: { type: "string" },
        },
      },
    },
  },
} as const;

export const AUTH_SCHEMAS = [
  UserSchema,
  MeSchema,
  InviteSchema,
  MailSentSchema,
  OidcProviderSchema,
  TokenPairSchema,
  LoginSessionSchema,
  SessionPolicySchema,
  PresetSessionPolicySchema,
  CustomSessionPolicySchema,
  SessionPolicyChoiceSchema,
  JwksSchema,
];
