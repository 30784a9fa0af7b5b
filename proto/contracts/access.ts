/**
 * Who may call each RPC: the one table of role floors, declared on each method in the protos
 * (`option (tdt.contract.v1.access)`) and imported as `@tdt/proto/contracts/access`.
 * The services check it (through the kit's `authorizer`), and the gateway's early checks are read
 * from it, so the two cannot disagree. Rules that depend on data (a technician sees published
 * trees only, a session belongs to its technician) stay in the services' logic.
 */
import type { AuthServiceService } from "@tdt/proto/tdt/auth/v1/auth";
import { ACCESS, type EnumValue, enumValues } from "@tdt/proto/tdt/contract";
import type { HooksServiceService } from "@tdt/proto/tdt/hooks/v1/hooks";
import type { SessionsServiceService } from "@tdt/proto/tdt/sessions/v1/sessions";
import type { MediaServiceService } from "@tdt/proto/tdt/trees/v1/media";
import type { TreesServiceService } from "@tdt/proto/tdt/trees/v1/trees";

/** The roles, lowest first: each may do what the ones before it may. */
/** The roles of `tdt.auth.v1.Role`, lowest first: the enum's order is the order of privilege. */
export const ROLES = enumValues("tdt.auth.v1.Role");
export type Role = EnumValue<"tdt.auth.v1.Role">;

/** What an RPC asks of its caller: nothing, a valid access token, or at least a role. */
export type Guard = "public" | "user" | Role;

/** A guard for every method of a generated service definition. */
export type AccessTable<D> = { readonly [K in keyof D]: Guard };

/** True when `holder`'s role is `minimum` or above it (an admin may do anything an engineer may). */
export function hasRole(holder: { role: Role }, minimum: Role): boolean {
  return ROLES.indexOf(holder.role) >= ROLES.indexOf(minimum);
}

/** The role a guard asks for, if it asks for one. */
export function roleOf(guard: Guard): Role | undefined {
  return guard === "public" || guard === "user" ? undefined : guard;
}

// The tables are the contracts' own (`option (tdt.contract.v1.access)` on each method), generated.
export const AUTH_ACCESS: AccessTable<typeof AuthServiceService> = ACCESS["tdt.auth.v1.AuthService"];
export const TREES_ACCESS: AccessTable<typeof TreesServiceService> = ACCESS["tdt.trees.v1.TreesService"];
export const MEDIA_ACCESS: AccessTable<typeof MediaServiceService> = ACCESS["tdt.trees.v1.MediaService"];
export const SESSIONS_ACCESS: AccessTable<typeof SessionsServiceService> = ACCESS["tdt.sessions.v1.SessionsService"];
export const HOOKS_ACCESS: AccessTable<typeof HooksServiceService> = ACCESS["tdt.hooks.v1.HooksService"];

/** Each table by the full name of its service, as the RPC paths spell it ("/tdt.auth.v1.AuthService/Login"). */
export const ACCESS_BY_SERVICE: Readonly<Record<string, Readonly<Record<string, Guard>>>> = {
  "tdt.auth.v1.AuthService": AUTH_ACCESS,
  "tdt.trees.v1.TreesService": TREES_ACCESS,
  "tdt.trees.v1.MediaService": MEDIA_ACCESS,
  "tdt.sessions.v1.SessionsService": SESSIONS_ACCESS,
  "tdt.hooks.v1.HooksService": HOOKS_ACCESS,
};

/**
 * ListSessions beyond the caller's own sessions (another user's, or everyone's) needs an engineer.
 * A rule of the request's data, so not in the table: the sessions service decides with it, and the
 * gateway asks it early to spare the call.
 */
export function mayListSessions(
  caller: { sub: string; role: Role },
  request: { all?: boolean | undefined; user_id?: string | undefined },
): boolean {
  const others = request.all === true || (request.user_id !== undefined && request.user_id !== caller.sub);
  return !others || hasRole(caller, "engineer");
}
