import { type AccessClaims, checks, type Handlers, type RequestContext } from "@tdt/kit";
import type { AuthServiceService, ClientInfo } from "@tdt/proto/tdt/auth/v1/auth";
import {
  type AccountDeps,
  acceptInvite,
  changeEmail,
  createInvite,
  forgotPassword,
  register,
  resendVerification,
  resetPassword,
  verifyEmail,
} from "./accounts.js";
import { trustedClient } from "./client-address.js";
import { normalizeEmail } from "./email-address.js";
import type { RateLimiter } from "./rate-limit.js";
import { checkRegisterBounds } from "./request-limits.js";

type AccountRpc =
  | "register"
  | "verifyEmail"
  | "resendVerification"
  | "forgotPassword"
  | "resetPassword"
  | "changeEmail"
  | "createInvite"
  | "acceptInvite";

export interface AccountHandlerDeps extends AccountDeps {
  /** Registration's limit per client address and per address (as before). */
  rateLimiter: RateLimiter;
  /** Requests that send mail to an address someone names: few per minute, per address and per client. */
  mailRateLimiter: RateLimiter;
  authorize: (rpc: "changeEmail" | "createInvite", ctx: RequestContext) => Promise<AccessClaims>;
}

/** The account RPCs (thin: the flows are in accounts.ts). */
export function accountHandlers(deps: AccountHandlerDeps): Pick<Handlers<typeof AuthServiceService>, AccountRpc> {
  /** Counts a request that mails `email`, by the address and by the client. */
  const limitMail = (kind: string, email: string, client: ClientInfo) =>
    deps.mailRateLimiter.hit([`${kind}:ip:${client.ip || "unknown"}`, `${kind}:email:${normalizeEmail(email)}`]);

  return {
    async register(request, ctx) {
      checkRegisterBounds(request);
      const client = trustedClient(request.client, ctx);
      await deps.rateLimiter.hit([
        `register:ip:${client.ip || "unknown"}`,
        `register:email:${normalizeEmail(request.email)}`,
      ]);
      return { detail: await register(deps, request) };
    },

    async verifyEmail(request) {
      checks().contract("tdt.auth.v1.VerifyEmailRequest", request).done();
      await verifyEmail(deps, request.token);
      return {};
    },

    async resendVerification(request, ctx) {
      checks().contract("tdt.auth.v1.ResendVerificationRequest", { email: request.email }).done();
      await limitMail("verify", request.email, trustedClient(request.client, ctx));
      return { detail: await resendVerification(deps, request.email) };
    },

    async forgotPassword(request, ctx) {
      checks().contract("tdt.auth.v1.ForgotPasswordRequest", { email: request.email }).done();
      await limitMail("reset", request.email, trustedClient(request.client, ctx));
      return { detail: await forgotPassword(deps, request.email) };
    },

    async resetPassword(request) {
      await resetPassword(deps, request);
      return {};
    },

    async changeEmail(request, ctx) {
      const claims = await deps.authorize("changeEmail", ctx);
      // Guessing the current password with a stolen access token is limited as a login is.
      await deps.rateLimiter.hit([`password:user:${claims.sub}`]);
      return { detail: await changeEmail(deps, claims, request) };
    },

    async createInvite(request, ctx) {
      const claims = await deps.authorize("createInvite", ctx);
      return { invite: await createInvite(deps, claims, request) };
    },

    async acceptInvite(request) {
      return { user: await acceptInvite(deps, request) };
    },
  };
}
