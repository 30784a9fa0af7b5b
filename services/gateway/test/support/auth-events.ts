import { randomUUID } from "node:crypto";
import { AUTH_SUBJECTS } from "@tdt/proto/contracts/auth-events";

/** The event auth publishes when a login session is logged out. */
export function sessionRevoked(sid: string) {
  return {
    subject: AUTH_SUBJECTS.sessionRevoked,
    event: {
      event_id: randomUUID(),
      occurred_at: new Date().toISOString(),
      sid,
      user_id: randomUUID(),
      reason: "logout",
    },
  } as const;
}
