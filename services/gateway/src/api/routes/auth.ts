import formbody from "@fastify/formbody";
import type { AccessTokenVerifier } from "@tdt/kit";
import type { LoginResponse, RefreshRequest, SwitchOrganizationResponse } from "@tdt/proto/tdt/auth/v1/auth";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { GatewayCaches } from "../../app.js";
import { type OriginPolicy, originPolicyOf } from "../../edge/cors-policy.js";
import { HttpError } from "../../edge/errors.js";
import { readMultipartForms } from "../../edge/multipart-form.js";
import { acceptEmptyJsonBody } from "../../edge/optional-json-body.js";
import {
  acceptTokenCookies,
  type CookiePaths,
  clearTokenCookies,
  deliverTokens,
  inCookieMode,
  refreshTokenFromCookie,
  refreshTokenOf,
  TOKEN_TRANSPORT_PROPERTY,
} from "../../edge/token-cookie.js";
import { requestSchema } from "../contract-schemas.js";
import { type Downstream, present } from "../downstream.js";
import { routesOf, tableRoute } from "../route.js";
import { bounds, ref, uuid } from "../schemas/common.js";
import { EXAMPLES } from "../schemas/examples.js";
import { accountRoutes } from "./accounts.js";
import { exchangeRoute, providerId, ssoRoutes } from "./sso.js";

export interface AuthRoutesOptions {
  downstream: Downstream;
  verifier: AccessTokenVerifier;
  /** `accounts` keeps each caller's `/me` until their account changes (response-cache.ts). */
  caches?: GatewayCaches | undefined;
  /** Who else may use the refresh-token cookie mode (token-cookie.ts); default: the gateway's own origin only. */
  origins?: OriginPolicy;
}

/** The bounds are the contract's (auth.proto's field options), which the auth service enforces too. */
const email = { type: "string", ...bounds("tdt.auth.v1.LoginRequest", "email") } as const;
/** Login takes any stored password; the 8–128 rule is for choosing one. */
const loginPassword = { type: "string", ...bounds("tdt.auth.v1.LoginRequest", "password") } as const;
const refreshToken = { type: "string", ...bounds("tdt.auth.v1.RefreshRequest", "refresh_token") } as const;
/** The header that opts a request in to the refresh-token cookie mode. */
const TOKEN_TRANSPORT_HEADERS = { type: "object", properties: TOKEN_TRANSPORT_PROPERTY } as const;
const COOKIE_MODE =
  "With `X-Token-Transport: cookie` the refresh token is set as the HttpOnly cookie `tdt_refresh` " +
  "(SameSite=Strict, Secure over TLS, sent only to refresh and logout) and left out of the body.";

/** Both login routes: the same RPC, whichever way the credentials came; wrong ones are a 401. */
function loginRoute(paths: CookiePaths) {
  return {
    rpc: { client: "auth", method: "login" },
    headers: TOKEN_TRANSPORT_HEADERS,
    response: { description: "A new login session's token pair", ...ref("TokenPair") },
    send: (answer: LoginResponse, reply: FastifyReply, request: FastifyRequest) =>
      deliverTokens(present(answer.tokens, "tokens"), request, reply, paths),
  } as const;
}

/** SPEC §4.1 over the AuthService: each route calls the RPC of the same purpose. */
export async function authRoutes(
  app: FastifyInstance,
  { downstream, verifier, origins = originPolicyOf([]), caches }: AuthRoutesOptions,
): Promise<void> {
  const route = routesOf({ tag: "auth", downstream, verifier, cache: caches?.accounts });
  const paths: CookiePaths = { refresh: `${app.prefix}/refresh`, logout: `${app.prefix}/logout` };
  const LOGIN = loginRoute(paths);

  accountRoutes(app, { route });

  // The routes that hand out or take a refresh token: they read the cookie mode's cookie.
  await app.register(async (tokens) => {
    await acceptTokenCookies(tokens, origins);
    // OAuth2 password form: its own scope, the only one that reads forms (and only forms).
    await tokens.register(async (form) => {
      form.removeContentTypeParser("application/json");
      await form.register(formbody);
      readMultipartForms(form);
      route(form, {
        ...LOGIN,
        method: "POST",
        url: "/login",
        operationId: "loginWithForm",
        summary: "Log in with the OAuth2 password form (`username` is the email)",
        description: `Urlencoded, or multipart as a browser's \`FormData\` sends it (text fields only). ${COOKIE_MODE}`,
        consumes: ["application/x-www-form-urlencoded", "multipart/form-data"],
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
          examples: [{ grant_type: "password", username: "ada@example.com", password: "correct horse battery" }],
        },
        request: (request: FastifyRequest<{ Body: { username: string; password: string } }>) => ({
          email: request.body.username,
          password: request.body.password,
        }),
        errors: [...(tableRoute("auth", "login", "").errors ?? []), "form_file_not_accepted", "form_too_large"],
      });
    });

    route(tokens, LOGIN);

    // A switch hands out a new login session's pair as login does (the cookie too, in cookie mode).
    route(tokens, {
      rpc: { client: "auth", method: "switchOrganization" },
      headers: TOKEN_TRANSPORT_HEADERS,
      response: { description: "A new login session's token pair, in that organization", ...ref("TokenPair") },
      send: (answer: SwitchOrganizationResponse, reply: FastifyReply, request: FastifyRequest) =>
        deliverTokens(present(answer.tokens, "tokens"), request, reply, paths),
    });

    // Refresh's body is optional (cookie mode sends none): its own scope reads an empty JSON body as none.
    await tokens.register(async (scope) => {
      acceptEmptyJsonBody(scope);
      route(scope, {
        rpc: { client: "auth", method: "refresh" },
        headers: {
          type: "object",
          properties: {
            "idempotency-key": {
              type: "string",
              ...bounds("tdt.auth.v1.RefreshRequest", "idempotency_key"),
              pattern: "^[\\x21-\\x7e]+$",
            },
            ...TOKEN_TRANSPORT_PROPERTY,
          },
        },
        body: {
          type: ["object", "null"],
          additionalProperties: false,
          properties: { refresh_token: refreshToken },
          description: "Required in JSON mode; none in cookie mode.",
          examples: [{ refresh_token: EXAMPLES.tokenPair.refresh_token }],
        },
        request: (
          request: FastifyRequest<{
            Body: Partial<Pick<RefreshRequest, "refresh_token">> | null;
            Headers: { "idempotency-key"?: string };
          }>,
        ) => {
          const token = refreshTokenOf(request, request.body?.refresh_token);
          if (token === undefined) {
            throw new HttpError(422, [{ loc: ["body", "refresh_token"], msg: "Field required", type: "missing" }]);
          }
          return {
            refresh_token: token,
            idempotency_key: request.headers["idempotency-key"],
          };
        },
        response: { description: "The new token pair", ...ref("TokenPair") },
        send: (answer, reply, request) => deliverTokens(present(answer.tokens, "tokens"), request, reply, paths),
      });
    });

    exchangeRoute(tokens, { route, paths, oidcPath: `${app.prefix}/oidc` });

    // Logout's body is optional: its own scope reads an empty JSON body as none.
    await tokens.register(async (scope) => {
      acceptEmptyJsonBody(scope);
      route(scope, {
        rpc: { client: "auth", method: "logout" },
        querystring: {
          type: "object",
          additionalProperties: false,
          properties: { all: { type: "boolean", default: false } },
        },
        headers: TOKEN_TRANSPORT_HEADERS,
        body: {
          type: ["object", "null"],
          additionalProperties: false,
          properties: { refresh_token: refreshToken },
          examples: [{ refresh_token: EXAMPLES.tokenPair.refresh_token }],
        },
        request: (
          request: FastifyRequest<{ Body: { refresh_token?: string } | null; Querystring: { all: boolean } }>,
        ) => ({
          all: request.query.all,
          refresh_token:
            (inCookieMode(request) ? refreshTokenFromCookie(request) : undefined) ?? request.body?.refresh_token ?? "",
        }),
        okWithBody: {
          description:
            "The session came from a single sign-on provider that offers RP-initiated logout: send the browser " +
            "to `end_session_url` to sign out there too",
          type: "object",
          required: ["end_session_url"],
          properties: { end_session_url: { type: "string", format: "uri" } },
          examples: [EXAMPLES.providerLogout],
        },
        send: (answer, reply, request) => {
          if (inCookieMode(request)) clearTokenCookies(request, reply, paths);
          return answer.end_session_url ? { end_session_url: answer.end_session_url } : undefined;
        },
      });
    });
  });

  route(app, {
    rpc: { client: "auth", method: "getMe" },
    response: { description: "The caller, with the providers they sign in with", ...ref("Me") },
    send: (answer) => ({
      ...present(answer.user, "user"),
      linked_providers: answer.linked_providers,
      has_password: answer.has_password,
      email_verified: answer.email_verified,
      organization: present(answer.organization, "organization"),
      is_platform_admin: answer.is_platform_admin,
    }),
  });

  route(app, { rpc: { client: "auth", method: "setPassword" } });

  route(app, { rpc: { client: "auth", method: "listLoginSessions" } });

  route(app, { rpc: { client: "auth", method: "revokeLoginSession" } });

  route(app, { rpc: { client: "auth", method: "listUsers" } });

  route(app, {
    rpc: { client: "auth", method: "updateUser" },
    // Something to change: the proto cannot say so.
    body: { type: "object", minProperties: 1, ...requestSchema("tdt.auth.v1.UpdateUserRequest", ["id"]) },
  });

  route(app, {
    rpc: { client: "auth", method: "unlinkOidcIdentity" },
    params: {
      type: "object",
      required: ["id", "provider"],
      properties: { id: uuid, provider: providerId },
    },
    request: ({ params }: FastifyRequest<{ Params: { id: string; provider: string } }>) => ({
      user_id: params.id,
      provider: params.provider,
    }),
  });

  await ssoRoutes(app, { route });

  route(app, { rpc: { client: "auth", method: "getSessionPolicy" } });

  // A preset or custom limits (a oneOf the proto's flat message cannot say).
  route(app, { rpc: { client: "auth", method: "setSessionPolicy" }, body: ref("SessionPolicyChoice") });
}
