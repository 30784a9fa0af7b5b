import { AUTH_SUBJECTS, type AuthEvent } from "@tdt/proto/contracts/auth-events";
import { AppError } from "../grpc/errors.js";
import { meter } from "../observability/metrics.js";
import type { AccessClaims } from "./access-tokens.js";

/**
 * Login sessions and users that the auth events say are over, so that their still-unexpired
 * access tokens stop working here within about a second. Entries are kept as long as an
 * access token issued before the event can live (`maxTokenLifetimeSeconds`).
 */
export class RevocationList {
  private readonly sids = new Map<string, number>();
  private readonly users = new Map<string, number>();

  constructor(private readonly maxTokenLifetimeSeconds: number) {
    meter()
      .createObservableGauge("tdt.revocations.size", {
        description: "Login sessions and users on this process's revocation list",
      })
      .addCallback((result) => result.observe(this.sids.size + this.users.size));
  }

  record(item: AuthEvent): void {
    const at = Date.parse(item.event.occurred_at ?? "") || Date.now();
    if (item.subject === AUTH_SUBJECTS.userDeactivated) {
      this.users.set(item.event.user_id, at);
    } else if (item.subject !== AUTH_SUBJECTS.userUpdated) {
      this.sids.set(item.event.sid, at);
    }
    // auth.user.updated ends nothing: a change that must end sessions (a role change, a
    // deactivation) comes with its own auth.session.revoked events.
    this.forgetOld();
  }

  /** Throws 401 `session_revoked` for a token whose login session or user was ended. */
  check(claims: AccessClaims): void {
    const sidEnded = this.sids.has(claims.sid);
    const userEnded = this.users.get(claims.sub);
    // A user deactivated, then reactivated and logged in again, has tokens issued after the event.
    if (sidEnded || (userEnded !== undefined && claims.iat * 1000 <= userEnded)) {
      throw new AppError("session_revoked");
    }
  }

  private forgetOld(): void {
    const horizon = Date.now() - this.maxTokenLifetimeSeconds * 1000 - 60_000;
    for (const map of [this.sids, this.users]) {
      for (const [key, at] of map) if (at < horizon) map.delete(key);
    }
  }
}
