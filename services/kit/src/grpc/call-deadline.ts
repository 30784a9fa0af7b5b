import { AsyncLocalStorage } from "node:async_hooks";

/**
 * The deadline of the gRPC call being served, for the statements it makes (issue 31). A
 * transaction of an organization started while serving a call (`setOrganization`) sets
 * `statement_timeout` to what is left of the call, so a read its caller gave up on (a 504 at the
 * gateway) stops at the deadline instead of holding a connection and a core for as long as it
 * would take: at a million sessions, a busy tree's analytics ran 28 s after its 504.
 *
 * Background work that a call only wakes (a relay, a delivery worker) must not inherit it: it
 * starts its loop through `detachedFromCall`.
 */
const calls = new AsyncLocalStorage<number>();

/** Runs `work` as part of serving a call due at `deadline` (grpc-js: a Date, or Infinity for none). */
export function withCallDeadline<T>(deadline: Date | number, work: () => T): T {
  return calls.run(deadline instanceof Date ? deadline.getTime() : deadline, work);
}

/** Milliseconds left of the call being served; undefined outside a call or for a call without a deadline. */
export function callTimeLeftMs(): number | undefined {
  const deadline = calls.getStore();
  return deadline === undefined || !Number.isFinite(deadline) ? undefined : deadline - Date.now();
}

/** Runs `work` outside any call: what it starts is bound by no caller's deadline. */
export function detachedFromCall<T>(work: () => T): T {
  return calls.exit(work);
}
