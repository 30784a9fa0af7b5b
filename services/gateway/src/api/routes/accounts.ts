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

/** Accounts whose address is proven by mail: registration, verification, reset, change of address, invitations. */
export function accountRoutes(
  app: FastifyInstance,
  { route, clientOf }: { route: Route; clientOf: (request: FastifyRequest) => ClientInfo },
): void {
  route(app, {
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
    response: MAIL_SENT,
    send: (answer) => ({ detail: answer.detail }),
  });

  route(app, {
    rpc: { client: "auth", method: "verifyEmail" },
    body: {
      type: "object",
      required: ["token"],
      additionalProperties: false,
      properties: { token: field("tdt.auth.v1.VerifyEmailRequest", "token") },
      examples: [EXAMPLES.mailToken],
    },
  });

  route(app, {
    rpc: { client: "auth", method: "resendVerification" },
    body: emailBody("tdt.auth.v1.ResendVerificationRequest"),
    request: (request: FastifyRequest<{ Body: { email: string } }>) => ({
      email: request.body.email,
      client: clientOf(request),
    }),
    response: MAIL_SENT,
    send: (answer) => ({ detail: answer.detail }),
  });

  route(app, {
    rpc: { client: "auth", method: "forgotPassword" },
    body: emailBody("tdt.auth.v1.ForgotPasswordRequest"),
    request: (request: FastifyRequest<{ Body: { email: string } }>) => ({
      email: request.body.email,
      client: clientOf(request),
    }),
    response: { ...MAIL_SENT, examples: [{ detail: "reset_sent" }] },
    send: (answer) => ({ detail: answer.detail }),
  });

  route(app, {
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
  });

  route(app, {
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
    response: MAIL_SENT,
    send: (answer) => ({ detail: answer.detail }),
  });

  route(app, {
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
    response: { description: "The invitation sent", ...ref("Invite") },
    send: (answer) => present(answer.invite, "invite"),
  });

  route(app, {
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
    response: { description: "The new user; sign in with the password just chosen", ...ref("User") },
    send: (answer) => present(answer.user, "user"),
  });
}
