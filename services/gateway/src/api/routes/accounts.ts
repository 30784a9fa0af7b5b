import type { ClientInfo } from "@tdt/proto/tdt/auth/v1/auth";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { requestSchema } from "../contract-schemas.js";
import type { routesOf } from "../route.js";
import { ref } from "../schemas/common.js";

type Route = ReturnType<typeof routesOf>;

const MAIL_SENT = { description: "The same answer whether or not the address has an account", ...ref("MailSent") };

/** Accounts whose address is proven by mail: registration, verification, reset, change of address, invitations. */
export function accountRoutes(
  app: FastifyInstance,
  { route, clientOf }: { route: Route; clientOf: (request: FastifyRequest) => ClientInfo },
): void {
  route(app, {
    rpc: { client: "auth", method: "register" },
    body: requestSchema("tdt.auth.v1.RegisterRequest", ["client"]),
    request: (request: FastifyRequest<{ Body: { email: string; password: string; full_name: string } }>) => ({
      ...request.body,
      client: clientOf(request),
    }),
    response: MAIL_SENT,
    // Never the user: the answer is the same whatever the address.
    send: (answer) => ({ detail: answer.detail }),
  });

  route(app, { rpc: { client: "auth", method: "verifyEmail" } });

  route(app, {
    rpc: { client: "auth", method: "resendVerification" },
    body: requestSchema("tdt.auth.v1.ResendVerificationRequest", ["client"]),
    request: (request: FastifyRequest<{ Body: { email: string } }>) => ({
      email: request.body.email,
      client: clientOf(request),
    }),
    response: MAIL_SENT,
  });

  route(app, {
    rpc: { client: "auth", method: "forgotPassword" },
    body: requestSchema("tdt.auth.v1.ForgotPasswordRequest", ["client"]),
    request: (request: FastifyRequest<{ Body: { email: string } }>) => ({
      email: request.body.email,
      client: clientOf(request),
    }),
    response: { ...MAIL_SENT, examples: [{ detail: "reset_sent" }] },
  });

  route(app, { rpc: { client: "auth", method: "resetPassword" } });

  route(app, { rpc: { client: "auth", method: "changeEmail" }, response: MAIL_SENT });

  route(app, { rpc: { client: "auth", method: "createInvite" } });

  route(app, { rpc: { client: "auth", method: "acceptInvite" } });
}
