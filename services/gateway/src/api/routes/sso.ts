import cookie from "@fastify/cookie";
import formbody from "@fastify/formbody";
import { PROVIDER_ID_PATTERN } from "@tdt/proto/contracts/sso";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { type CookiePaths, deliverTokens, TOKEN_TRANSPORT_PROPERTY } from "../../edge/token-cookie.js";
import { cameOverTls } from "../../edge/transport-security.js";
import { requestSchema } from "../contract-schemas.js";
import { present } from "../downstream.js";
import type { routesOf } from "../route.js";
import { bounds, ref } from "../schemas/common.js";
import { EXAMPLES } from "../schemas/examples.js";

/**
 * The cookie that binds a sign-in to the browser that started it, up to the exchange of its
 * one-time code (login CSRF defence). Under TLS it is `__Host-tdt_sso`: Secure, Path=/ and no
 * Domain, so no sibling or parent domain (and no plain-http page) can plant one.
 */
export const SSO_BINDING_COOKIE = "tdt_sso";
const SSO_BINDING_HOST_COOKIE = `__Host-${SSO_BINDING_COOKIE}`;

/** The binding cookie's name and options for this request: `__Host-` under TLS. */
function bindingCookie(request: FastifyRequest, oidcPath: string) {
  const tls = cameOverTls(request);
  return {
    name: tls ? SSO_BINDING_HOST_COOKIE : SSO_BINDING_COOKIE,
    // SameSite=Lax: the provider's redirect back is a cross-site top-level navigation.
    options: { path: tls ? "/" : oidcPath, httpOnly: true, sameSite: "lax", secure: tls } as const,
  };
}

/** The binding the browser brought (only the cookie this transport would have set counts). */
export function bindingOf(request: FastifyRequest, oidcPath: string): string {
  return request.cookies[bindingCookie(request, oidcPath).name] ?? "";
}

/** Sets the binding of a new attempt, for as long as the attempt lives. */
function setBinding(request: FastifyRequest, reply: FastifyReply, oidcPath: string, binding: string, maxAge: number) {
  const { name, options } = bindingCookie(request, oidcPath);
  reply.setCookie(name, binding, { ...options, maxAge });
}

/** The exchange used the binding: it is cleared, so it cannot serve again. */
export function clearBinding(request: FastifyRequest, reply: FastifyReply, oidcPath: string) {
  const { name, options } = bindingCookie(request, oidcPath);
  reply.clearCookie(name, options);
}

type Route = ReturnType<typeof routesOf>;

/** A provider's id in a path. */
export const providerId = { type: "string", pattern: PROVIDER_ID_PATTERN } as const;
const providerParam = { type: "object", required: ["provider"], properties: { provider: providerId } } as const;

/** What SSO adds to the auth routes: the public flow, the one-time code's exchange, the back channel. */
export async function ssoRoutes(app: FastifyInstance, { route }: { route: Route }): Promise<void> {
  const oidcPath = `${app.prefix}/oidc`;

  route(app, { rpc: { client: "auth", method: "listOidcProviders" } });

  // The browser's steps read and set the binding cookie.
  await app.register(async (browser) => {
    await browser.register(cookie);

    route(browser, {
      rpc: { client: "auth", method: "beginOidcLogin" },
      params: providerParam,
      querystring: requestSchema("tdt.auth.v1.BeginOidcLoginRequest", ["provider", "binding"]),
      request: (request: FastifyRequest<{ Params: { provider: string }; Querystring: { return_to: string } }>) => ({
        provider: request.params.provider,
        return_to: request.query.return_to,
        binding: "",
      }),
      redirect: { location: (answer) => answer.authorization_url, description: "To the provider" },
      send: (answer, reply, request) => setBinding(request, reply, oidcPath, answer.binding, answer.expires_in),
    });

    route(browser, {
      rpc: { client: "auth", method: "beginOidcLink" },
      params: providerParam,
      body: requestSchema("tdt.auth.v1.BeginOidcLinkRequest", ["provider"]),
      request: (request: FastifyRequest<{ Params: { provider: string }; Body: { return_to: string } }>) => ({
        provider: request.params.provider,
        return_to: request.body.return_to,
      }),
      response: {
        description: "Where to send the browser",
        type: "object",
        required: ["authorize_url"],
        properties: { authorize_url: { type: "string", format: "uri" } },
        examples: [{ authorize_url: "https://login.example.com/authorize?client_id=tdt&state=Xq3vK9mP2wR7" }],
      },
      send: (answer, reply, request) => {
        setBinding(request, reply, oidcPath, answer.binding, answer.expires_in);
        reply.header("cache-control", "no-store");
        return { authorize_url: answer.authorization_url };
      },
    });

    route(browser, {
      rpc: { client: "auth", method: "completeOidcLogin" },
      params: providerParam,
      // What providers send besides code and state (iss, session_state, scope …) is passed on whole.
      querystring: {
        type: "object",
        properties: {
          code: { type: "string", maxLength: 4096 },
          state: { type: "string", maxLength: 512 },
          error: { type: "string", maxLength: 256 },
          error_description: { type: "string", maxLength: 1024 },
          iss: { type: "string", maxLength: 2048 },
        },
      },
      request: (request: FastifyRequest<{ Params: { provider: string } }>) => {
        const query = request.url.indexOf("?");
        return {
          provider: request.params.provider,
          query: query < 0 ? "" : request.url.slice(query + 1),
          binding: bindingOf(request, oidcPath),
        };
      },
      redirect: { location: (answer) => answer.redirect_to, description: "To return_to, with `code` or `error`" },
    });
  });

  // The provider's back channel posts a form.
  await app.register(async (form) => {
    form.removeContentTypeParser("application/json");
    await form.register(formbody);
    route(form, {
      rpc: { client: "auth", method: "oidcBackchannelLogout" },
      consumes: ["application/x-www-form-urlencoded"],
      params: providerParam,
      body: {
        type: "object",
        required: ["logout_token"],
        examples: [EXAMPLES.logoutToken],
        properties: {
          logout_token: { type: "string", ...bounds("tdt.auth.v1.OidcBackchannelLogoutRequest", "logout_token") },
        },
      },
      response: {
        description: "The sessions it names are ended",
        type: "object",
        additionalProperties: false,
        examples: [{}],
      },
      send: (_answer, reply: FastifyReply) => {
        reply.header("cache-control", "no-store");
        return {};
      },
    });
  });
}

/** The exchange of a one-time code: a token route, registered where the cookie mode's cookies are read. */
export function exchangeRoute(
  tokens: FastifyInstance,
  { route, paths, oidcPath }: { route: Route; paths: CookiePaths; oidcPath: string },
): void {
  route(tokens, {
    rpc: { client: "auth", method: "exchangeOidcCode" },
    headers: { type: "object", properties: TOKEN_TRANSPORT_PROPERTY },
    body: requestSchema("tdt.auth.v1.ExchangeOidcCodeRequest", ["binding"]),
    request: (request: FastifyRequest<{ Body: { code: string } }>) => ({
      code: request.body.code,
      binding: bindingOf(request, oidcPath),
    }),
    response: { description: "A new login session's token pair", ...ref("TokenPair") },
    send: (answer, reply, request) => {
      clearBinding(request, reply, oidcPath);
      return deliverTokens(present(answer.tokens, "tokens"), request, reply, paths);
    },
  });
}
