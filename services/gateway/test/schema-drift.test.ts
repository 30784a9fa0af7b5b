/**
 * The gateway's schemas and the gRPC contracts they carry must not drift:
 * - every field a response message has is documented and sent, and the schema promises nothing the message lacks;
 * - every closed list (proto enum) appears in the OpenAPI document with exactly its JSON strings;
 * - every bound the contract gives a request field (`(tdt.contract.v1.field)`) is the JSON schema's bound;
 * - every property of a request body or query names a field of the request message it becomes.
 */

import {
  AcceptInviteRequest,
  AddOrganizationMemberRequest,
  BeginOidcLinkRequest,
  BeginOidcLoginRequest,
  ChangeEmailRequest,
  CompleteOidcLoginRequest,
  CreateApiKeyRequest,
  CreateInviteRequest,
  CreateOrganizationRequest,
  CreateOrganizationSsoProviderRequest,
  ExchangeOidcCodeRequest,
  ForgotPasswordRequest,
  Invite,
  ListOidcProvidersRequest,
  ListUsersRequest,
  LoginRequest,
  LoginSession,
  LogoutRequest,
  OidcBackchannelLogoutRequest,
  OidcProvider,
  RefreshRequest,
  RegisterRequest,
  ResendVerificationRequest,
  ResetPasswordRequest,
  SessionPolicy,
  SetOrganizationDomainsRequest,
  SetOrganizationLimitsRequest,
  SetOrganizationPolicyRequest,
  SetPasswordRequest,
  SetSessionPolicyRequest,
  TokenPair,
  UpdateOrganizationSsoProviderRequest,
  UpdateUserRequest,
  User,
  VerifyEmailRequest,
} from "@tdt/proto/tdt/auth/v1/auth";
import { allowedStrings, ENUMS, FIELD_RULES, type FieldRules } from "@tdt/proto/tdt/contract";
import {
  CreateWebhookRequest,
  ListWebhookDeliveriesRequest,
  UpdateWebhookRequest,
} from "@tdt/proto/tdt/hooks/v1/hooks";
import {
  CompleteSessionRequest,
  ExportSessionRequest,
  ListSessionSummariesRequest,
  ListSessionsRequest,
  Session,
  StartSessionRequest,
  Step,
  StepSessionRequest,
} from "@tdt/proto/tdt/sessions/v1/sessions";
import { UploadMediaRequest } from "@tdt/proto/tdt/trees/v1/media";
import {
  DiffTreeRequest,
  ExportTreeRequest,
  GetTreeAnalyticsRequest,
  GetTreeRequest,
  ListTreesRequest,
  Node,
  Option,
  PortableTree,
  PublishTreeDraftRequest,
  ReviewTreeDraftRequest,
  RollbackTreeRequest,
  SearchTreesRequest,
  SetTreeSettingsRequest,
  SetTreeTranslationRequest,
  Tree,
  TreeInput,
  TreeSummary,
  TreeVersion,
} from "@tdt/proto/tdt/trees/v1/trees";
import { freePort } from "@tdt/test-support/ports";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  InviteSchema,
  LoginSessionSchema,
  OidcProviderSchema,
  SessionPolicySchema,
  TokenPairSchema,
  UserSchema,
} from "../src/api/schemas/auth.js";
import { SessionSchema, SessionStepSchema } from "../src/api/schemas/sessions.js";
import {
  NodeSchema,
  OptionSchema,
  TreeSchema,
  TreeSummarySchema,
  TreeVersionSchema,
} from "../src/api/schemas/trees.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";

type Message = { fromPartial(object: object): object };
// biome-ignore lint/suspicious/noExplicitAny: an OpenAPI document is read as plain JSON.
type Json = any;

/** Every field of a ts-proto message (its empty message lists optional fields too). */
function fieldsOf(message: Message): string[] {
  return Object.keys(message.fromPartial({})).sort();
}

/** The properties a shared schema documents, through the variants of a union (Node is one per `type`). */
function schemaFields(schema: { $id: string }): string[] {
  return [...propertiesOf({ $ref: `#/components/schemas/${schema.$id}` }).keys()].sort();
}

const RESPONSES = [
  ["tdt.auth.v1.User", User, UserSchema],
  ["tdt.auth.v1.TokenPair", TokenPair, TokenPairSchema],
  ["tdt.auth.v1.LoginSession", LoginSession, LoginSessionSchema],
  ["tdt.auth.v1.SessionPolicy", SessionPolicy, SessionPolicySchema],
  ["tdt.auth.v1.OidcProvider", OidcProvider, OidcProviderSchema],
  ["tdt.auth.v1.Invite", Invite, InviteSchema],
  ["tdt.trees.v1.Option", Option, OptionSchema],
  ["tdt.trees.v1.Node", Node, NodeSchema],
  ["tdt.trees.v1.Tree", Tree, TreeSchema],
  ["tdt.trees.v1.TreeSummary", TreeSummary, TreeSummarySchema],
  ["tdt.trees.v1.TreeVersion", TreeVersion, TreeVersionSchema],
  ["tdt.sessions.v1.Step", Step, SessionStepSchema],
  ["tdt.sessions.v1.Session", Session, SessionSchema],
] as const;

describe("gateway schemas follow the contracts", () => {
  it.each(RESPONSES)("%s", (_name, message, schema) => {
    expect(schemaFields(schema as { $id: string })).toEqual(fieldsOf(message));
  });
});

/** Where each request message comes from: a route, and where its properties are (body or query). */
interface RequestRoute {
  message: string;
  type: Message;
  method: string;
  path: string;
  in: "body" | "query";
  /** A property the route reads under another name (the OAuth2 form's `username` is the email). */
  renamed?: Record<string, string>;
  /** Properties that are no field of the message, each with why. */
  extra?: Record<string, string>;
}

const REQUESTS: RequestRoute[] = [
  {
    message: "tdt.auth.v1.RegisterRequest",
    type: RegisterRequest,
    method: "post",
    path: "/api/v1/auth/register",
    in: "body",
  },
  {
    message: "tdt.auth.v1.LoginRequest",
    type: LoginRequest,
    method: "post",
    path: "/api/v1/auth/login/json",
    in: "body",
  },
  {
    message: "tdt.auth.v1.LoginRequest",
    type: LoginRequest,
    method: "post",
    path: "/api/v1/auth/login",
    in: "body",
    renamed: { username: "email" },
    extra: {
      grant_type: "OAuth2 password form",
      scope: "OAuth2 password form, ignored",
      client_id: "OAuth2 password form, ignored",
      client_secret: "OAuth2 password form, ignored",
    },
  },
  {
    message: "tdt.auth.v1.RefreshRequest",
    type: RefreshRequest,
    method: "post",
    path: "/api/v1/auth/refresh",
    in: "body",
  },
  {
    message: "tdt.auth.v1.LogoutRequest",
    type: LogoutRequest,
    method: "post",
    path: "/api/v1/auth/logout",
    in: "body",
  },
  {
    message: "tdt.auth.v1.LogoutRequest",
    type: LogoutRequest,
    method: "post",
    path: "/api/v1/auth/logout",
    in: "query",
  },
  {
    message: "tdt.auth.v1.BeginOidcLoginRequest",
    type: BeginOidcLoginRequest,
    method: "get",
    path: "/api/v1/auth/oidc/{provider}/authorize",
    in: "query",
  },
  {
    message: "tdt.auth.v1.CompleteOidcLoginRequest",
    type: CompleteOidcLoginRequest,
    method: "get",
    path: "/api/v1/auth/oidc/{provider}/callback",
    in: "query",
    extra: {
      code: "the provider's answer, passed on whole as `query`",
      state: "the provider's answer, passed on whole as `query`",
      error: "the provider's answer, passed on whole as `query`",
      error_description: "the provider's answer, passed on whole as `query`",
      iss: "the provider's answer, passed on whole as `query`",
    },
  },
  {
    message: "tdt.auth.v1.ExchangeOidcCodeRequest",
    type: ExchangeOidcCodeRequest,
    method: "post",
    path: "/api/v1/auth/oidc/exchange",
    in: "body",
  },
  {
    message: "tdt.auth.v1.OidcBackchannelLogoutRequest",
    type: OidcBackchannelLogoutRequest,
    method: "post",
    path: "/api/v1/auth/oidc/{provider}/backchannel-logout",
    in: "body",
  },
  {
    message: "tdt.auth.v1.SetPasswordRequest",
    type: SetPasswordRequest,
    method: "post",
    path: "/api/v1/auth/me/password",
    in: "body",
  },
  ...(
    [
      ["tdt.auth.v1.BeginOidcLinkRequest", BeginOidcLinkRequest, "/api/v1/auth/oidc/{provider}/link"],
      ["tdt.auth.v1.VerifyEmailRequest", VerifyEmailRequest, "/api/v1/auth/verify-email"],
      ["tdt.auth.v1.ResendVerificationRequest", ResendVerificationRequest, "/api/v1/auth/verify-email/resend"],
      ["tdt.auth.v1.ForgotPasswordRequest", ForgotPasswordRequest, "/api/v1/auth/password/forgot"],
      ["tdt.auth.v1.ResetPasswordRequest", ResetPasswordRequest, "/api/v1/auth/password/reset"],
      ["tdt.auth.v1.ChangeEmailRequest", ChangeEmailRequest, "/api/v1/auth/me/email"],
      ["tdt.auth.v1.CreateInviteRequest", CreateInviteRequest, "/api/v1/auth/invites"],
      ["tdt.auth.v1.AcceptInviteRequest", AcceptInviteRequest, "/api/v1/auth/invites/accept"],
      ["tdt.auth.v1.AddOrganizationMemberRequest", AddOrganizationMemberRequest, "/api/v1/organizations/{id}/members"],
      ["tdt.auth.v1.CreateOrganizationRequest", CreateOrganizationRequest, "/api/v1/organizations"],
      [
        "tdt.auth.v1.CreateOrganizationSsoProviderRequest",
        CreateOrganizationSsoProviderRequest,
        "/api/v1/organizations/{id}/sso-providers",
      ],
    ] as const
  ).map(([message, type, path]): RequestRoute => ({ message, type, method: "post", path, in: "body" })),
  {
    message: "tdt.trees.v1.GetTreeAnalyticsRequest",
    type: GetTreeAnalyticsRequest,
    method: "get",
    path: "/api/v1/trees/{id}/analytics",
    in: "query",
  },
  {
    message: "tdt.auth.v1.ListUsersRequest",
    type: ListUsersRequest,
    method: "get",
    path: "/api/v1/auth/users",
    in: "query",
  },
  {
    message: "tdt.auth.v1.UpdateUserRequest",
    type: UpdateUserRequest,
    method: "patch",
    path: "/api/v1/auth/users/{id}",
    in: "body",
  },
  {
    message: "tdt.auth.v1.SetOrganizationPolicyRequest",
    type: SetOrganizationPolicyRequest,
    method: "put",
    path: "/api/v1/organizations/{id}/policy",
    in: "body",
  },
  ...(
    [
      [
        "tdt.auth.v1.SetOrganizationDomainsRequest",
        SetOrganizationDomainsRequest,
        "/api/v1/organizations/{id}/domains",
      ],
      ["tdt.auth.v1.SetOrganizationLimitsRequest", SetOrganizationLimitsRequest, "/api/v1/organizations/{id}/limits"],
      [
        "tdt.auth.v1.UpdateOrganizationSsoProviderRequest",
        UpdateOrganizationSsoProviderRequest,
        "/api/v1/organizations/{id}/sso-providers/{provider_id}",
      ],
    ] as const
  ).map(([message, type, path]): RequestRoute => ({ message, type, method: "put", path, in: "body" })),
  {
    message: "tdt.auth.v1.CreateApiKeyRequest",
    type: CreateApiKeyRequest,
    method: "post",
    path: "/api/v1/api-keys",
    in: "body",
  },
  {
    message: "tdt.hooks.v1.CreateWebhookRequest",
    type: CreateWebhookRequest,
    method: "post",
    path: "/api/v1/webhooks",
    in: "body",
  },
  {
    message: "tdt.hooks.v1.UpdateWebhookRequest",
    type: UpdateWebhookRequest,
    method: "patch",
    path: "/api/v1/webhooks/{id}",
    in: "body",
  },
  {
    message: "tdt.hooks.v1.ListWebhookDeliveriesRequest",
    type: ListWebhookDeliveriesRequest,
    method: "get",
    path: "/api/v1/webhooks/{id}/deliveries",
    in: "query",
  },
  {
    message: "tdt.auth.v1.ListOidcProvidersRequest",
    type: ListOidcProvidersRequest,
    method: "get",
    path: "/api/v1/auth/providers",
    in: "query",
  },
  {
    message: "tdt.auth.v1.SetSessionPolicyRequest",
    type: SetSessionPolicyRequest,
    method: "put",
    path: "/api/v1/auth/session-policy",
    in: "body",
  },
  {
    message: "tdt.trees.v1.ListTreesRequest",
    type: ListTreesRequest,
    method: "get",
    path: "/api/v1/trees",
    in: "query",
  },
  {
    message: "tdt.trees.v1.SearchTreesRequest",
    type: SearchTreesRequest,
    method: "get",
    path: "/api/v1/trees/search",
    in: "query",
  },
  {
    message: "tdt.trees.v1.GetTreeRequest",
    type: GetTreeRequest,
    method: "get",
    path: "/api/v1/trees/{id}",
    in: "query",
  },
  // What the service sets on a tree is no part of either (a document read back has it dropped).
  { message: "tdt.trees.v1.TreeInput", type: TreeInput, method: "post", path: "/api/v1/trees", in: "body" },
  {
    message: "tdt.trees.v1.TreeInput",
    type: TreeInput,
    method: "put",
    path: "/api/v1/trees/{id}",
    in: "body",
    extra: { version: "UpdateTreeRequest.version (a replacement names the version it was edited from)" },
  },
  {
    message: "tdt.trees.v1.TreeInput",
    type: TreeInput,
    method: "put",
    path: "/api/v1/trees/{id}/draft",
    in: "body",
    extra: { draft_revision: "SaveTreeDraftRequest.draft_revision (a save names the revision it was edited from)" },
  },
  {
    message: "tdt.trees.v1.PortableTree",
    type: PortableTree,
    method: "post",
    path: "/api/v1/trees/import",
    in: "body",
  },
  {
    message: "tdt.trees.v1.PublishTreeDraftRequest",
    type: PublishTreeDraftRequest,
    method: "post",
    path: "/api/v1/trees/{id}/publish",
    in: "body",
  },
  {
    message: "tdt.trees.v1.RollbackTreeRequest",
    type: RollbackTreeRequest,
    method: "post",
    path: "/api/v1/trees/{id}/rollback",
    in: "body",
  },
  {
    message: "tdt.trees.v1.ReviewTreeDraftRequest",
    type: ReviewTreeDraftRequest,
    method: "post",
    path: "/api/v1/trees/{id}/reviews",
    in: "body",
  },
  {
    message: "tdt.trees.v1.SetTreeSettingsRequest",
    type: SetTreeSettingsRequest,
    method: "patch",
    path: "/api/v1/trees/{id}/settings",
    in: "body",
  },
  {
    message: "tdt.trees.v1.DiffTreeRequest",
    type: DiffTreeRequest,
    method: "get",
    path: "/api/v1/trees/{id}/diff",
    in: "query",
  },
  {
    message: "tdt.trees.v1.ExportTreeRequest",
    type: ExportTreeRequest,
    method: "get",
    path: "/api/v1/trees/{id}/export",
    in: "query",
  },
  {
    message: "tdt.trees.v1.SetTreeTranslationRequest",
    type: SetTreeTranslationRequest,
    method: "put",
    path: "/api/v1/trees/{id}/translations/{locale}",
    in: "body",
  },
  // The multipart upload's file part is the message's `content`; its file name (the part's) is `filename`.
  {
    message: "tdt.trees.v1.UploadMediaRequest",
    type: UploadMediaRequest,
    method: "post",
    path: "/api/v1/media",
    in: "body",
    renamed: { file: "content" },
  },
  {
    message: "tdt.sessions.v1.ListSessionsRequest",
    type: ListSessionsRequest,
    method: "get",
    path: "/api/v1/sessions",
    in: "query",
  },
  {
    message: "tdt.sessions.v1.ListSessionSummariesRequest",
    type: ListSessionSummariesRequest,
    method: "get",
    path: "/api/v1/sessions/summaries",
    in: "query",
  },
  {
    message: "tdt.sessions.v1.StartSessionRequest",
    type: StartSessionRequest,
    method: "post",
    path: "/api/v1/sessions",
    in: "body",
  },
  {
    message: "tdt.sessions.v1.StepSessionRequest",
    type: StepSessionRequest,
    method: "put",
    path: "/api/v1/sessions/{id}",
    in: "body",
  },
  {
    message: "tdt.sessions.v1.CompleteSessionRequest",
    type: CompleteSessionRequest,
    method: "post",
    path: "/api/v1/sessions/{id}/complete",
    in: "body",
  },
  {
    message: "tdt.sessions.v1.ExportSessionRequest",
    type: ExportSessionRequest,
    method: "post",
    path: "/api/v1/sessions/{id}/export",
    in: "body",
  },
  {
    message: "tdt.sessions.v1.ExportSessionRequest",
    type: ExportSessionRequest,
    method: "post",
    path: "/api/v1/sessions/{id}/export",
    in: "query",
  },
];

/**
 * The trees service judges a tree document itself and answers one 422 listing every problem, so
 * the gateway's TreeInput, Node and Option carry the closed lists but not the lengths (see
 * schemas/trees.ts).
 */
const BOUNDS_JUDGED_BY_THE_SERVICE = new Set([
  "tdt.trees.v1.TreeInput",
  "tdt.trees.v1.PortableTree",
  "tdt.trees.v1.Node",
  "tdt.trees.v1.Option",
]);

let gateway: TestGateway;
let spec: Json;

beforeAll(async () => {
  // Nothing listens at the auth port: the OpenAPI document needs no service.
  gateway = await startTestGateway(await freePort());
  spec = (await gateway.app.inject({ method: "GET", url: "/api/openapi.json" })).json();
});
afterAll(async () => {
  await gateway.close();
});

/** A schema with its `$ref`s to components resolved. */
function resolve(schema: Json): Json {
  if (schema?.$ref) return resolve(spec.components.schemas[String(schema.$ref).replace("#/components/schemas/", "")]);
  return schema;
}

/** Every property schema of an object schema, through `allOf`/`oneOf`: name → the schemas it has. */
function propertiesOf(schema: Json, into = new Map<string, Json[]>()): Map<string, Json[]> {
  const resolved = resolve(schema);
  for (const [name, property] of Object.entries(resolved?.properties ?? {})) {
    into.set(name, [...(into.get(name) ?? []), resolve(property)]);
  }
  for (const part of [...(resolved?.allOf ?? []), ...(resolved?.oneOf ?? [])]) propertiesOf(part, into);
  return into;
}

function requestProperties(route: RequestRoute): Map<string, Json[]> {
  const operation = spec.paths[route.path]?.[route.method];
  expect(operation, `${route.method} ${route.path}`).toBeDefined();
  if (route.in === "query") {
    const query = new Map<string, Json[]>();
    for (const parameter of operation.parameters ?? []) {
      if (parameter.in === "query") query.set(parameter.name, [resolve(parameter.schema)]);
    }
    return query;
  }
  const content = Object.values<Json>(operation.requestBody?.content ?? {});
  const properties = new Map<string, Json[]>();
  for (const media of content) propertiesOf(media.schema, properties);
  return properties;
}

/** The values a property schema allows, when it is a closed list (`enum`, or one `const` per variant). */
function allowedValues(schemas: Json[]): string[] | undefined {
  const values = schemas.flatMap((schema) =>
    schema.enum ? schema.enum.filter((value: unknown) => value !== null) : "const" in schema ? [schema.const] : [],
  );
  return values.length > 0 ? [...new Set<string>(values)].sort() : undefined;
}

/** One property schema, all its variants agreeing on `key`. */
function only(schemas: Json[], key: string): unknown {
  const values = [...new Set(schemas.map((schema) => schema[key]))];
  expect(values, `variants disagree on ${key}`).toHaveLength(1);
  return values[0];
}

/** That a property's schema carries the contract's bounds for its field. */
function expectBounds(where: string, field: string, rule: FieldRules, schemas: Json[]): void {
  const string = rule.string;
  if (string?.max_len !== undefined) expect(only(schemas, "maxLength"), `${where} maxLength`).toBe(string.max_len);
  if (string?.min_len !== undefined) expect(only(schemas, "minLength"), `${where} minLength`).toBe(string.min_len);
  if (rule.int32?.lte !== undefined) expect(only(schemas, "maximum"), `${where} maximum`).toBe(rule.int32.lte);
  if (rule.int32?.gte !== undefined) {
    // A paging `limit` of 0 is proto3's "unset" (the default), which HTTP spells by leaving it out.
    const minimum = field === "limit" && rule.int32.gte === 0 ? 1 : rule.int32.gte;
    expect(only(schemas, "minimum"), `${where} minimum`).toBe(minimum);
  }
  if (rule.repeated?.max_items !== undefined) {
    expect(only(schemas, "maxItems"), `${where} maxItems`).toBe(rule.repeated.max_items);
  }
}

function rulesOf(message: string): Record<string, FieldRules> {
  return (FIELD_RULES as Record<string, Record<string, FieldRules>>)[message] ?? {};
}

describe("request schemas follow the contracts", () => {
  it.each(REQUESTS.map((route) => [`${route.method} ${route.path} (${route.in})`, route] as const))(
    "%s: every property is a field of its message, with the contract's bounds and closed lists",
    (_name, route) => {
      const fields = fieldsOf(route.type);
      const rules = rulesOf(route.message);
      const properties = requestProperties(route);
      expect(properties.size, "a route with no properties here belongs elsewhere in this table").toBeGreaterThan(0);
      for (const property of Object.keys(route.extra ?? {})) {
        expect([...properties.keys()], `${route.path}: the extra ${property} is no property (any more)`).toContain(
          property,
        );
      }
      for (const [property, schemas] of properties) {
        if (route.extra?.[property]) continue;
        const field = route.renamed?.[property] ?? property;
        expect(fields, `${route.path}: ${property} names no field of ${route.message}`).toContain(field);
        const rule = rules[field];
        if (!rule) continue;
        const where = `${route.path} ${property}`;
        const allowed = allowedStrings(rule.string);
        if (allowed) expect(allowedValues(schemas), `${where} enum`).toEqual([...allowed].sort());
        if (!BOUNDS_JUDGED_BY_THE_SERVICE.has(route.message)) expectBounds(where, field, rule, schemas);
      }
    },
  );

  it("the refresh's Idempotency-Key header has the contract's bounds", () => {
    const header = spec.paths["/api/v1/auth/refresh"].post.parameters.find(
      (parameter: Json) => parameter.in === "header" && parameter.name === "idempotency-key",
    );
    const rule = FIELD_RULES["tdt.auth.v1.RefreshRequest"].idempotency_key;
    expectBounds("idempotency-key", "idempotency_key", rule, [header.schema]);
  });

  it("every bounded request field is checked above, or is a response or nested message", () => {
    const covered = new Set([...REQUESTS.map((route) => route.message), ...RESPONSES.map(([name]) => name)]);
    // ClientInfo comes from headers (user-agent, forwarded address), not from a body.
    covered.add("tdt.auth.v1.ClientInfo");
    // An analytics count by outcome: HTTP spells each as a property of `sessions` (session-counts.ts).
    covered.add("tdt.trees.v1.OutcomeCount");
    // Where a search hit matched: written out in TreeSummary's `match` from the message itself.
    covered.add("tdt.trees.v1.SearchMatch");
    // A draft save's revision: its body is a TreeInput's with `draft_revision` beside (checked above).
    covered.add("tdt.trees.v1.SaveTreeDraftRequest");
    // A tree's variables, a form's fields and a logic node's rules: an author sends them as the
    // contract's request schemas of their messages (VariableInput, FormFieldInput, LogicRuleInput),
    // and the trees service checks every bound again (tests/system/logic-forms.test.ts).
    for (const message of [
      "tdt.trees.v1.Variable",
      "tdt.trees.v1.FormField",
      "tdt.trees.v1.LogicRule",
      // A translation's texts: SetTreeTranslationRequest's items, as the contract's request schema.
      "tdt.trees.v1.TranslatedText",
      // Its fields are the path's (`id`, `locale`): the trees service checks the locale's pattern
      // (tests/system/translations.test.ts).
      "tdt.trees.v1.GetTreeTranslationRequest",
    ]) {
      covered.add(message);
    }
    // Answers the gateway documents as their messages say (referencedSchemas), with nothing of its own.
    for (const message of [
      "tdt.trees.v1.HistoryEntry",
      "tdt.trees.v1.TreeReview",
      "tdt.auth.v1.Organization",
      "tdt.auth.v1.OrganizationMember",
      "tdt.auth.v1.OrganizationSsoProvider",
      "tdt.auth.v1.OrganizationLimits",
      "tdt.hooks.v1.Webhook",
      "tdt.auth.v1.ApiKey",
      "tdt.hooks.v1.WebhookDelivery",
      "tdt.sessions.v1.SessionSummary",
    ]) {
      covered.add(message);
    }
    expect(Object.keys(FIELD_RULES).filter((message) => !covered.has(message))).toEqual([]);
  });
});

describe("closed lists follow the contracts", () => {
  it.each(RESPONSES.map(([name, , schema]) => [name, schema] as const))(
    "%s: every enum field of the message lists exactly the enum's JSON strings",
    (name, schema) => {
      // Through a union's variants: Node's `type` is one `const` per variant.
      const properties = propertiesOf({ $ref: `#/components/schemas/${(schema as { $id: string }).$id}` });
      for (const [field, rule] of Object.entries(rulesOf(name))) {
        const allowed = allowedStrings(rule.string);
        if (!allowed) continue;
        expect(allowedValues(properties.get(field) ?? []), `${name}.${field}`).toEqual([...allowed].sort());
      }
    },
  );

  it("every enum of the contracts is used by a field", () => {
    const used = new Set(
      Object.values(FIELD_RULES).flatMap((fields) =>
        // A list's items name their enum too (a webhook's `events`).
        Object.values<FieldRules>(fields).map((rule) => rule.string?.in_enum ?? rule.repeated?.items?.string?.in_enum),
      ),
    );
    expect(Object.keys(ENUMS).filter((name) => !used.has(name as keyof typeof ENUMS))).toEqual([]);
  });

  it("a report is documented in each format's media type, the one the sessions service sends", () => {
    const content = spec.paths["/api/v1/sessions/{id}/export"].post.responses["200"].content;
    expect(Object.keys(content).sort()).toEqual(Object.values(ENUMS["tdt.sessions.v1.ReportFormat"].mediaTypes).sort());
  });
});
