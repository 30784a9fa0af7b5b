import { ROLES } from "@tdt/kit";
import type { ClientInfo } from "@tdt/proto/tdt/auth/v1/auth";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { present } from "../downstream.js";
import type { routesOf } from "../route.js";
import { bounds, ref } from "../schemas/common.js";
import { EXAMPLES } from "../schemas/examples.js";

type Route = ReturnType<typeof routesOf>;

const field = (message: Parameters<typeof bounds>[0], name: string) => ({ type: "string", ...bounds(message, name) });
const emailBody = (message: Parameters<typeof bounds>[0]) =>
  ({
    type: "object",
    required: ["email"],
    additionalProperties: false,
    properties: { email: { ...field(message, "email"), format: "email" } },
    examples: [{ email: "ada@example.com" }],
  }) as const;
const MAIL_SENT = { description: "The same answer whether or not the address has an account", ...ref("MailSent") };
const LINKS =
  "Mailed links point at the web app's pages under `PUBLIC_URL` (`/verify-email?token=…`, `/reset-password?token=…`, " +
  "`/accept-invite?token=…`), which call the routes below; each token works once and expires.";

/** Accounts whose address is proven by mail: registration, verification, reset, change of address, invitations. */
export function accountRoutes(
  app: FastifyInstance,
  { route, clientOf }: { route: Route; clientOf: (request: FastifyRequest) => ClientInfo },
): void {
  route(app, {
    method: "POST",
    url: "/register",
    summary: "Create an account (role technician): a verification link is mailed",
    description:
      "Under `REGISTRATION=verify` (the default) the account may sign in once its address is verified by the " +
      "mailed link; under `open` at once. The answer is the same whether or not the address already has an " +
      "account: its owner gets a mail saying so instead. Under `invite` and `closed` it is 403 " +
      `\`registration_closed\`. ${LINKS}`,
    rpc: { client: "auth", method: "register" },
    body: {
      type: "object",
      required: ["email", "password", "full_name"],
      additionalProperties: false,
      properties: {
        email: { ...field("tdt.auth.v1.RegisterRequest", "email"), format: "email" },
        password: { ...field("tdt.auth.v1.RegisterRequest", "password"), writeOnly: true },
        full_name: field("tdt.auth.v1.RegisterRequest", "full_name"),
      },
      examples: [{ email: "ada@example.com", password: "correct horse battery", full_name: "Ada Lovelace" }],
    },
    request: (request: FastifyRequest<{ Body: { email: string; password: string; full_name: string } }>) => ({
      ...request.body,
      client: clientOf(request),
    }),
    status: 202,
    response: MAIL_SENT,
    send: (answer) => ({ detail: answer.detail }),
    errors: ["registration_closed", "too_many_attempts"],
  });

  route(app, {
    method: "POST",
    url: "/verify-email",
    summary: "Follow a verification link: the address is proven (or, for a change of address, taken)",
    description: `A change of address ends every login session of the account. ${LINKS}`,
    rpc: { client: "auth", method: "verifyEmail" },
    body: {
      type: "object",
      required: ["token"],
      additionalProperties: false,
      properties: { token: field("tdt.auth.v1.VerifyEmailRequest", "token") },
      examples: [EXAMPLES.mailToken],
    },
    request: ({ body }: FastifyRequest<{ Body: { token: string } }>) => body,
    status: 204,
    errors: ["invalid_mail_token", "email_already_registered"],
  });

  route(app, {
    method: "POST",
    url: "/verify-email/resend",
    summary: "Mail a new verification link (the same answer for any address)",
    rpc: { client: "auth", method: "resendVerification" },
    body: emailBody("tdt.auth.v1.ResendVerificationRequest"),
    request: (request: FastifyRequest<{ Body: { email: string } }>) => ({
      email: request.body.email,
      client: clientOf(request),
    }),
    status: 202,
    response: MAIL_SENT,
    send: (answer) => ({ detail: answer.detail }),
    errors: ["too_many_attempts"],
  });

  route(app, {
    method: "POST",
    url: "/password/forgot",
    summary: "Mail a password reset link (the same answer for any address)",
    rpc: { client: "auth", method: "forgotPassword" },
    body: emailBody("tdt.auth.v1.ForgotPasswordRequest"),
    request: (request: FastifyRequest<{ Body: { email: string } }>) => ({
      email: request.body.email,
      client: clientOf(request),
    }),
    status: 202,
    response: { ...MAIL_SENT, examples: [{ detail: "reset_sent" }] },
    send: (answer) => ({ detail: answer.detail }),
    errors: ["too_many_attempts"],
  });

  route(app, {
    method: "POST",
    url: "/password/reset",
    summary: "Follow a reset link: a new password, and every login session of the account ends",
    description: "The address counts as proven from then on (the link reached its owner).",
    rpc: { client: "auth", method: "resetPassword" },
    body: {
      type: "object",
      required: ["token", "password"],
      additionalProperties: false,
      properties: {
        token: field("tdt.auth.v1.ResetPasswordRequest", "token"),
        password: { ...field("tdt.auth.v1.ResetPasswordRequest", "password"), writeOnly: true },
      },
      examples: [{ ...EXAMPLES.mailToken, password: "battery staple horse" }],
    },
    request: ({ body }: FastifyRequest<{ Body: { token: string; password: string } }>) => body,
    status: 204,
    errors: ["invalid_mail_token"],
  });

  route(app, {
    method: "POST",
    url: "/me/email",
    summary: "Move the caller's account to a new address: a verification link goes there",
    description:
      "`current_password` is required when the caller has a password; a user made by single sign-on needs a " +
      "sign-in within the last 10 minutes instead. The address changes when the mailed link is followed.",
    rpc: { client: "auth", method: "changeEmail" },
    body: {
      type: "object",
      required: ["email"],
      additionalProperties: false,
      properties: {
        email: { ...field("tdt.auth.v1.ChangeEmailRequest", "email"), format: "email" },
        current_password: { ...field("tdt.auth.v1.ChangeEmailRequest", "current_password"), writeOnly: true },
      },
      examples: [{ email: "ada@new.example.com", current_password: "correct horse battery" }],
    },
    request: ({ body }: FastifyRequest<{ Body: { email: string; current_password?: string } }>) => ({
      email: body.email,
      current_password: body.current_password ?? "",
    }),
    status: 202,
    response: MAIL_SENT,
    send: (answer) => ({ detail: answer.detail }),
    errors: ["wrong_password", "reauthentication_required", "too_many_attempts"],
  });

  route(app, {
    method: "POST",
    url: "/invites",
    summary: "Invite an address with a role (admin): the link is mailed",
    description: `Works under every \`REGISTRATION\` mode. ${LINKS}`,
    rpc: { client: "auth", method: "createInvite" },
    body: {
      type: "object",
      required: ["email", "role"],
      additionalProperties: false,
      properties: {
        email: { ...field("tdt.auth.v1.CreateInviteRequest", "email"), format: "email" },
        role: { type: "string", enum: ROLES },
      },
      examples: [{ email: "grace@example.com", role: "engineer" }],
    },
    request: ({ body }: FastifyRequest<{ Body: { email: string; role: string } }>) => body,
    status: 201,
    response: { description: "The invitation sent", ...ref("Invite") },
    send: (answer) => present(answer.invite, "invite"),
    errors: ["email_already_registered"],
  });

  route(app, {
    method: "POST",
    url: "/invites/accept",
    summary: "Accept an invitation: the account is made with the invited role, its address proven",
    rpc: { client: "auth", method: "acceptInvite" },
    body: {
      type: "object",
      required: ["token", "password", "full_name"],
      additionalProperties: false,
      properties: {
        token: field("tdt.auth.v1.AcceptInviteRequest", "token"),
        password: { ...field("tdt.auth.v1.AcceptInviteRequest", "password"), writeOnly: true },
        full_name: field("tdt.auth.v1.AcceptInviteRequest", "full_name"),
      },
      examples: [{ ...EXAMPLES.mailToken, password: "correct horse battery", full_name: "Grace Hopper" }],
    },
    request: ({ body }: FastifyRequest<{ Body: { token: string; password: string; full_name: string } }>) => body,
    status: 201,
    response: { description: "The new user; sign in with the password just chosen", ...ref("User") },
    send: (answer) => present(answer.user, "user"),
    errors: ["invalid_mail_token", "email_already_registered"],
  });
}
