/** The error a test expects a call to throw, typed, so that its fields can be checked. */
import type { ServiceError } from "@grpc/grpc-js";
import { AppError, ConfigError, isServiceError } from "@tdt/kit";

/** The gRPC error a call rejects with. */
export async function grpcErrorOf(call: Promise<unknown>): Promise<ServiceError> {
  try {
    await call;
  } catch (error) {
    if (isServiceError(error)) return error;
    throw error;
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** The ConfigError a read throws. */
export function configErrorOf(read: () => unknown): ConfigError {
  return thrownBy(read, ConfigError, "a ConfigError");
}

/** The AppError a call throws (a refusal of the domain rules). */
export function appErrorOf(run: () => unknown): AppError {
  return thrownBy(run, AppError, "an AppError");
}

/** The error of class `kind` that `run` throws; any other error is thrown on. */
function thrownBy<E extends Error>(run: () => unknown, kind: new (...args: never[]) => E, named: string): E {
  try {
    run();
  } catch (error) {
    if (error instanceof kind) return error;
    throw error;
  }
  throw new Error(`expected ${named}, but nothing was thrown`);
}
