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
  try {
    read();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error("expected a ConfigError, but nothing was thrown");
}

/** The AppError a call throws (a refusal of the domain rules). */
export function appErrorOf(run: () => unknown): AppError {
  try {
    run();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error("expected an AppError, but nothing was thrown");
}
