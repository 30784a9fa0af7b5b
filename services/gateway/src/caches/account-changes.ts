import type { Logger, NatsLink } from "@tdt/kit";
import { AUTH_EVENTS, AUTH_SUBJECTS, type AuthEvent } from "@tdt/proto/contracts/auth-events";
import { keepCacheTrue } from "./cache-feed.js";
import type { ResponseCache } from "./response-cache.js";

/** The cache tag of what shows user `id`'s account (`GET /auth/me`). */
export function tagsOfUser(id: string): string[] {
  return [`user:${id}`];
}

/** What an auth event makes stale: a user's account when it changed; a session's end, nothing (tokens are checked on every call). */
function tagsOf(item: AuthEvent): string[] {
  switch (item.subject) {
    case AUTH_SUBJECTS.userUpdated:
    case AUTH_SUBJECTS.userDeactivated:
      return tagsOfUser(item.event.user_id);
    default:
      return [];
  }
}

/** Keeps the account answers of `cache` true: `auth.user.updated` and `.deactivated` drop the user's. */
export function followAccountChanges(options: { nats: NatsLink; cache: ResponseCache; log: Logger }): {
  close(): Promise<void>;
} {
  return keepCacheTrue({ ...options, source: AUTH_EVENTS, tagsOf });
}
