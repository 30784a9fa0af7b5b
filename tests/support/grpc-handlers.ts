import { AppError, type Handlers } from "@tdt/kit";

/** Every method of a definition answering NOT_FOUND, to be overridden where a test needs more. */
export function notFoundHandlers<D extends object>(definition: D): Handlers<D> {
  const entries = Object.keys(definition).map((name) => [
    name,
    async () => {
      throw new AppError("not_found");
    },
  ]);
  return Object.fromEntries(entries) as Handlers<D>;
}
