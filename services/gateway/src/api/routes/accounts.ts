import type { FastifyInstance } from "fastify";
import type { routesOf } from "../route.js";
import { ref } from "../schemas/common.js";

type Route = ReturnType<typeof routesOf>;

const MAIL_SENT = { description: "The same answer whether or not the address has an account", ...ref("MailSent") };

/** Accounts whose address is proven by mail: registration, verification, reset, change of address, invitations. */
export function accountRoutes(app: FastifyInstance, { route }: { route: Route }): void {
  route(app, {
    rpc: { client: "auth", method: "register" },
    response: MAIL_SENT,
    // Never the user: the answer is the same whatever the address.
    send: (answer) => ({ detail: answer.detail }),
  });

  route(app, { rpc: { client: "auth", method: "verifyEmail" } });

  route(app, {
    rpc: { client: "auth", method: "resendVerification" },
    response: MAIL_SENT,
  });

  route(app, {
    rpc: { client: "auth", method: "forgotPassword" },
    response: { ...MAIL_SENT, examples: [{ detail: "reset_sent" }] },
  });

  route(app, { rpc: { client: "auth", method: "resetPassword" } });

  route(app, { rpc: { client: "auth", method: "changeEmail" }, response: MAIL_SENT });

  route(app, { rpc: { client: "auth", method: "createInvite" } });

  route(app, { rpc: { client: "auth", method: "acceptInvite" } });
}
