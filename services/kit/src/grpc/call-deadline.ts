import { AsyncLocalStorage } from "node:async_hooks";
import { Metadata, type ServiceError, status } from "@grpc/grpc-js";

/**
 * The gRPC call being served, for what its handler starts (issue 31):
 * - its deadline: a transaction started while serving a call (`inTransaction`) sets
 *   `statement_timeout` to what is left of the call, so a read its caller
 *   gave up on (a 504 at the gateway) stops at the deadline instead of holding a connection and a
 *   core for as long as it would take (at a million sessions, a busy tree's analytics ran 28 s
 *   after its 504);
 * - its signal (`callSignal()`): an AbortSignal for long work the handler can stop (a PDF render),
 *   aborted when the deadline passes or the caller cancels. Made on first use only: a call that
 *   never asks for it costs no timer.
 *
 * Background work that a call only wakes (a relay, a delivery worker) must not inherit it: it
 * starts its loop through `detachedFromCall`.
 */
interface ServedCall {
  /** When the caller stops waiting (ms since the epoch; Infinity for no deadline). */
  deadline: number;
  call: CallEvents;
  /** Made by the first `callSignal()`; `release` stops its timer and listener once the call is answered. */
  controller?: AbortController;
  release?: () => void;
}

/** What of grpc-js's ServerUnaryCall the call's signal listens to. */
export interface CallEvents {
  getDeadline(): Date | number;
  once(event: "cancelled", listener: () => void): unknown;
  off(event: "cancelled", listener: () => void): unknown;
}

const calls = new AsyncLocalStorage<ServedCall>();

/** Longer than a timer can wait (about 24.8 days): no deadline worth a timer. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

/**
 * Runs `work` as serving `call`: its statements are bound by the call's deadline and it may ask
 * for the call's signal. The signal's timer and listener go when `work`'s promise settles.
 */
export function servingCall<T>(call: CallEvents, work: () => Promise<T>): Promise<T> {
  const deadline = call.getDeadline();
  const served: ServedCall = { deadline: deadline instanceof Date ? deadline.getTime() : deadline, call };
  // A `work` that throws before its promise rejects it as well, and is released the same.
  return new Promise<T>((resolve) => resolve(calls.run(served, work))).finally(() => served.release?.());
}

/** Milliseconds left of the call being served; undefined outside a call or for a call without a deadline. */
export function callTimeLeftMs(): number | undefined {
  const deadline = calls.getStore()?.deadline;
  return deadline === undefined || !Number.isFinite(deadline) ? undefined : deadline - Date.now();
}

/**
 * What a call whose caller gave up ends with: DEADLINE_EXCEEDED, which the kit passes through as
 * it is (nobody reads it; the caller has its own).
 */
export function callerGaveUp(): ServiceError {
  return Object.assign(new Error("the caller's deadline passed or it cancelled the call"), {
    code: status.DEADLINE_EXCEEDED,
    details: "deadline_exceeded",
    metadata: new Metadata(),
  });
}

/** The signal of the call being served (its reason `callerGaveUp()`); undefined outside a call. */
export function callSignal(): AbortSignal | undefined {
  const served = calls.getStore();
  if (!served) return undefined;
  if (!served.controller) {
    const controller = new AbortController();
    const giveUp = () => controller.abort(callerGaveUp());
    const left = served.deadline - Date.now();
    const timer = left < LONGEST_TIMER_MS ? setTimeout(giveUp, Math.max(0, left)) : undefined;
    timer?.unref();
    served.call.once("cancelled", giveUp);
    served.controller = controller;
    served.release = () => {
      clearTimeout(timer);
      served.call.off("cancelled", giveUp);
    };
  }
  return served.controller.signal;
}

/** Runs `work` outside any call: what it starts is bound by no caller's deadline. */
export function detachedFromCall<T>(work: () => T): T {
  return calls.exit(work);
}
