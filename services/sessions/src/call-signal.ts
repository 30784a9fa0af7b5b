/**
 * When a call's caller stops waiting, as an AbortSignal its handler can hand to long work (a PDF
 * render): aborted when the call's deadline passes or the caller cancels. The kit's
 * RequestContext carries no deadline, so the chosen methods of a binding are wrapped here and the
 * signal travels with the call's async context (`callSignal()` inside the handler).
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { Metadata, type ServerUnaryCall, type ServiceError, type sendUnaryData, status } from "@grpc/grpc-js";
import type { ServiceBinding } from "@tdt/kit";

const signals = new AsyncLocalStorage<AbortSignal>();

/** Longer than a timer can wait (about 24.8 days): no deadline worth a timer. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;

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

type UnaryHandler = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void;

/** `binding` with `methods` given their call's signal. */
export function withCallSignals(binding: ServiceBinding, methods: string[]): ServiceBinding {
  const implementation = { ...binding.implementation };
  for (const name of methods) {
    const handle = implementation[name] as UnaryHandler | undefined;
    if (!handle) throw new Error(`the binding has no method ${name}`);
    implementation[name] = ((call, callback) => {
      const controller = new AbortController();
      const giveUp = () => controller.abort(callerGaveUp());
      const deadline = call.getDeadline();
      const left = (deadline instanceof Date ? deadline.getTime() : deadline) - Date.now();
      const timer = left < LONGEST_TIMER_MS ? setTimeout(giveUp, Math.max(0, left)) : undefined;
      timer?.unref();
      call.once("cancelled", giveUp);
      const answered: sendUnaryData<unknown> = (...answer) => {
        clearTimeout(timer);
        call.off("cancelled", giveUp);
        callback(...answer);
      };
      signals.run(controller.signal, () => handle(call, answered));
    }) satisfies UnaryHandler;
  }
  return { ...binding, implementation };
}

/** The signal of the call being handled; undefined outside a wrapped method (a test calling a handler). */
export function callSignal(): AbortSignal | undefined {
  return signals.getStore();
}
