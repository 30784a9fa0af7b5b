import { AUTH_EVENTS } from "@tdt/proto/contracts/auth-events";
import { followInBackground } from "../events/follow-in-background.js";
import type { NatsLink } from "../events/nats.js";
import type { Logger } from "../observability/logger.js";
import type { RevocationList } from "./revocations.js";

export interface RevocationFeed {
  close(): Promise<void>;
}

/**
 * Feeds `revocations` from the auth events, in the background: the process serves while NATS is
 * out of reach (tokens then stay valid until their `exp`, as without events) and catches up once
 * it connects, replaying every event that can still matter to an unexpired access token.
 */
export function followRevocations(options: {
  nats: NatsLink;
  revocations: RevocationList;
  accessTokenTtlSeconds: number;
  log: Logger;
}): RevocationFeed {
  const { revocations, accessTokenTtlSeconds } = options;
  return followInBackground({
    nats: options.nats,
    source: AUTH_EVENTS,
    // Every event that can still matter: an access token issued before it lives at most the TTL.
    since: () => new Date(Date.now() - (accessTokenTtlSeconds + 60) * 1000),
    handle: (item) => revocations.record(item),
    log: options.log,
  });
}
