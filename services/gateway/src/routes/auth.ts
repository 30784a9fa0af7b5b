import formbody from "@fastify/formbody";
import { type AccessTokenVerifier, ROLES } from "@tdt/kit";
import type {
  ClientInfo,
  LoginRequest,
  RefreshRequest,
  RegisterRequest,
  SetSessionPolicyRequest,
  UpdateUserRequest,
} from "@tdt/proto/tdt/auth/v1/auth";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { callOptionsOf, requireRole, requireUser } from "../authenticate.js";
import { type Downstream, present } from "../downstream.js";
import { acceptEmptyJsonBody } from "../optional-json-body.js";
import { PRESETS } from "../schemas/auth.js";
import { BEARER, bounds, NO_CONTENT, PAGE_PARAMETERS, ref, totalCountHeader, uuid } from "../schemas/common.js";
import { BODY_ERRORS, DOWNSTREAM_ERRORS, errorResponses } from "../schemas/errors.js";

export interface AuthRoutesOptions {
  downstream: Downstream;
  verifier: AccessTokenVerifier;
}

const TAGS = ["auth"];

/** The bounds are the contract's (auth.proto's field options), which the auth service enforces too. */
const email = { type: "string", ...bounds("tdt.auth.v1.LoginRequest", "email") } as const;
/** Login takes any stored password; the 8–128 rule is for choosing one. */
const loginPassword = { type: "string", ...bounds("tdt.auth.v1.LoginRequest", "password") } as const;
const refreshToken = { type: "string", ...bounds("tdt.auth.v1.RefreshRequest", "refresh_token") } as const;
const LOGIN_RESPONSES = {
  200: { description: "A new login session's token pair", ...ref("TokenPair") },
  ...errorResponses(...BODY_ERRORS, 401, 429, ...DOWNSTREAM_ERRORS),
};

/** Where a login comes from, recorded on the login session and used for rate limits. */
function clientOf(request: FastifyRequest): ClientInfo {
  return { user_agent: (request.headers["user-agent"] ?? "").slice(0, 512), ip: request.ip };
}

/** SPEC §4.1 over the AuthService: each route calls the RPC of the same purpose. */
export async function authRoutes(app: FastifyInstance, { downstream, verifier }: AuthRoutesOptions): Promise<void> {
  const { auth } = downstream;
  const user = requireUser(verifier);
  const admin = [user, requireRole("admin")];

  /** Both login routes: the same RPC, whichever way the credentials came. */
  const logIn = async (request: FastifyRequest, credentials: Omit<LoginRequest, "client">) => {
    const login: LoginRequest = { ...credentials, client: clientOf(request) };
    return present((await auth.login(login, callOptionsOf(request))).tokens, "tokens");
  };

  app.post<{ Body: Omit<RegisterRequest, "client"> }>(
    "/register",
    {
      schema: {
        tags: TAGS,
        summary: "Create an account (role technician)",
        body: {
          type: "object",
          required: ["email", "password", "full_name"],
          additionalProperties: false,
          properties: {
            email: { type: "string", ...bounds("tdt.auth.v1.RegisterRequest", "email"), format: "email" },
            password: { type: "string", ...bounds("tdt.auth.v1.RegisterRequest", "password") },
            full_name: { type: "string", ...bounds("tdt.auth.v1.RegisterRequest", "full_name") },
          },
        },
        response: {
          201: { description: "The new user", ...ref("User") },
          ...errorResponses(...BODY_ERRORS, 409, 429, ...DOWNSTREAM_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const { user } = await auth.register({ ...request.body, client: clientOf(request) }, callOptionsOf(request));
      return reply.code(201).send(present(user, "user"));
    },
  );

  // OAuth2 password form: its own scope, the only one that reads forms (and only forms).
  await app.register(async (form) => {
    form.removeContentTypeParser("application/json");
    await form.register(formbody);
    form.post<{ Body: { username: string; password: string } }>(
      "/login",
      {
        schema: {
          tags: TAGS,
          summary: "Log in with the OAuth2 password form (`username` is the email)",
          consumes: ["application/x-www-form-urlencoded"],
          body: {
            type: "object",
            required: ["username", "password"],
            additionalProperties: false,
            properties: {
              username: email,
              password: loginPassword,
              // What OAuth2 clients (Swagger UI's Authorize among them) send besides.
              grant_type: { type: "string", enum: ["password"] },
              scope: { type: "string", maxLength: 1024 },
              client_id: { type: "string", maxLength: 256 },
              client_secret: { type: "string", maxLength: 256 },
            },
          },
          response: LOGIN_RESPONSES,
        },
      },
      async (request) => logIn(request, { email: request.body.username, password: request.body.password }),
    );
  });

  app.post<{ Body: Omit<LoginRequest, "client"> }>(
    "/login/json",
    {
      schema: {
        tags: TAGS,
        summary: "Log in with a JSON body",
        body: {
          type: "object",
          required: ["email", "password"],
          additionalProperties: false,
          properties: { email, password: loginPassword },
        },
        response: LOGIN_RESPONSES,
      },
    },
    async (request) => logIn(request, request.body),
  );

  app.post<{ Body: Pick<RefreshRequest, "refresh_token">; Headers: { "idempotency-key"?: string } }>(
    "/refresh",
    {
      schema: {
        tags: TAGS,
        summary: "Trade a refresh token for a new pair (the old one is consumed)",
        description:
          "Send an `Idempotency-Key` (1–128 visible ASCII characters, new for each refresh) to make a retry safe: " +
          "the same key with the same refresh token within 60 s answers the same pair, where a second use of the " +
          "token would otherwise count as reuse and end the login session.",
        headers: {
          type: "object",
          properties: {
            "idempotency-key": {
              type: "string",
              ...bounds("tdt.auth.v1.RefreshRequest", "idempotency_key"),
              pattern: "^[\\x21-\\x7e]+$",
            },
          },
        },
        body: {
          type: "object",
          required: ["refresh_token"],
          additionalProperties: false,
          properties: { refresh_token: refreshToken },
        },
        response: {
          200: { description: "The new token pair", ...ref("TokenPair") },
          ...errorResponses(...BODY_ERRORS, 401, ...DOWNSTREAM_ERRORS),
        },
      },
    },
    async (request) => {
      const refresh: RefreshRequest = {
        ...request.body,
        client: clientOf(request),
        idempotency_key: request.headers["idempotency-key"],
      };
      return present((await auth.refresh(refresh, callOptionsOf(request))).tokens, "tokens");
    },
  );

  app.get(
    "/me",
    {
      onRequest: user,
      schema: {
        tags: TAGS,
        summary: "The caller's account",
        security: BEARER,
        response: { 200: { description: "The caller", ...ref("User") }, ...errorResponses(401, ...DOWNSTREAM_ERRORS) },
      },
    },
    async (request) => present((await auth.getMe({}, callOptionsOf(request))).user, "user"),
  );

  // Logout's body is optional: its own scope reads an empty JSON body as none.
  await app.register(async (scope) => {
    acceptEmptyJsonBody(scope);
    scope.post<{ Body: { refresh_token?: string } | null; Querystring: { all: boolean } }>(
      "/logout",
      {
        onRequest: user,
        schema: {
          tags: TAGS,
          summary: "End the caller's login session (`all=true`: every session of the caller)",
          description: "The body is optional; a refresh token given in it is consumed too.",
          security: BEARER,
          querystring: {
            type: "object",
            additionalProperties: false,
            properties: { all: { type: "boolean", default: false } },
          },
          body: {
            type: ["object", "null"],
            additionalProperties: false,
            properties: { refresh_token: refreshToken },
          },
          response: { ...NO_CONTENT, ...errorResponses(...BODY_ERRORS, 401, ...DOWNSTREAM_ERRORS) },
        },
      },
      async (request, reply) => {
        const refresh_token = request.body?.refresh_token ?? "";
        await auth.logout({ all: request.query.all, refresh_token }, callOptionsOf(request));
        return reply.code(204).send();
      },
    );
  });

  app.get(
    "/sessions",
    {
      onRequest: user,
      schema: {
        tags: TAGS,
        summary: "The caller's active login sessions",
        security: BEARER,
        response: {
          200: { description: "Active login sessions", type: "array", items: ref("LoginSession") },
          ...errorResponses(401, ...DOWNSTREAM_ERRORS),
        },
      },
    },
    async (request) => (await auth.listLoginSessions({}, callOptionsOf(request))).sessions,
  );

  app.delete<{ Params: { sid: string } }>(
    "/sessions/:sid",
    {
      onRequest: user,
      schema: {
        tags: TAGS,
        summary: "Revoke one of the caller's login sessions",
        security: BEARER,
        params: { type: "object", required: ["sid"], properties: { sid: uuid } },
        response: { ...NO_CONTENT, ...errorResponses(401, 404, 422, ...DOWNSTREAM_ERRORS) },
      },
    },
    async (request, reply) => {
      await auth.revokeLoginSession({ sid: request.params.sid }, callOptionsOf(request));
      return reply.code(204).send();
    },
  );

  app.get<{ Querystring: { skip: number; limit: number } }>(
    "/users",
    {
      onRequest: admin,
      schema: {
        tags: TAGS,
        summary: "List users (admin)",
        security: BEARER,
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: PAGE_PARAMETERS,
        },
        response: {
          200: {
            description: "One page of users; the total is in `X-Total-Count`",
            headers: totalCountHeader("users"),
            type: "array",
            items: ref("User"),
          },
          ...errorResponses(401, 403, 422, ...DOWNSTREAM_ERRORS),
        },
      },
    },
    async (request, reply) => {
      const { users, total } = await auth.listUsers(request.query, callOptionsOf(request));
      return reply.header("x-total-count", String(total)).send(users);
    },
  );

  app.patch<{ Params: { id: string }; Body: Omit<UpdateUserRequest, "id"> }>(
    "/users/:id",
    {
      onRequest: admin,
      schema: {
        tags: TAGS,
        summary: "Change a user's role or deactivate them (admin); deactivating ends their sessions",
        security: BEARER,
        params: { type: "object", required: ["id"], properties: { id: uuid } },
        body: {
          type: "object",
          minProperties: 1,
          additionalProperties: false,
          properties: { role: { type: "string", enum: ROLES }, is_active: { type: "boolean" } },
        },
        response: {
          200: { description: "The user as changed", ...ref("User") },
          ...errorResponses(...BODY_ERRORS, 401, 403, 404, ...DOWNSTREAM_ERRORS),
        },
      },
    },
    async (request) => {
      const update: UpdateUserRequest = { id: request.params.id, ...request.body };
      return present((await auth.updateUser(update, callOptionsOf(request))).user, "user");
    },
  );

  app.get(
    "/session-policy",
    {
      onRequest: admin,
      schema: {
        tags: TAGS,
        summary: "The account's session-expiration policy (admin)",
        security: BEARER,
        response: {
          200: { description: "The policy", ...ref("SessionPolicy") },
          ...errorResponses(401, 403, ...DOWNSTREAM_ERRORS),
        },
      },
    },
    async (request) => present((await auth.getSessionPolicy({}, callOptionsOf(request))).policy, "policy"),
  );

  const seconds = (field: string) => ({ type: "integer", ...bounds("tdt.auth.v1.SetSessionPolicyRequest", field) });
  app.put<{ Body: SetSessionPolicyRequest }>(
    "/session-policy",
    {
      onRequest: admin,
      schema: {
        tags: TAGS,
        summary: "Choose the session-expiration policy (admin); applies to tokens minted from now on",
        description:
          "A named preset, or `custom` with its three limits (idle ≤ absolute ≤ 365 days, a reuse grace of at " +
          "most 300 s; the auth service enforces the lower bound).",
        security: BEARER,
        body: {
          type: "object",
          required: ["preset"],
          discriminator: { propertyName: "preset" },
          oneOf: [
            {
              type: "object",
              additionalProperties: false,
              required: ["preset"],
              properties: { preset: { type: "string", enum: PRESETS.filter((preset) => preset !== "custom") } },
            },
            {
              type: "object",
              additionalProperties: false,
              required: ["preset", "idle_max_seconds", "abs_max_seconds", "reuse_grace_seconds"],
              properties: {
                preset: { type: "string", const: "custom" },
                idle_max_seconds: seconds("idle_max_seconds"),
                abs_max_seconds: seconds("abs_max_seconds"),
                reuse_grace_seconds: seconds("reuse_grace_seconds"),
              },
            },
          ],
        },
        response: {
          200: { description: "The policy now in force", ...ref("SessionPolicy") },
          ...errorResponses(...BODY_ERRORS, 401, 403, ...DOWNSTREAM_ERRORS),
        },
      },
    },
    async (request) => present((await auth.setSessionPolicy(request.body, callOptionsOf(request))).policy, "policy"),
  );
}
