/**
 * What an error answer means to the person at the screen, by its stable `detail` code: the
 * sentence is the message `error.<code>` (a provider's refusal: `sso.<code>`) of the catalogs.
 */
import { ApiError } from "./api-error.js";
import { isMessageKey, t } from "./i18n.js";

/** The sentence of `code` in `group`, if the catalogs have one. */
function sentenceOf(group: "error" | "sso", code: string): string | undefined {
  const key = `${group}.${code}`;
  return isMessageKey(key) ? t(key) : undefined;
}

/** A sentence for any error: the API's code when it has one, with the code itself for support. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    const sentence = sentenceOf("error", error.detail) ?? t("error.requestFailed", { status: error.status });
    return `${sentence} [${error.detail}]`;
  }
  if (error instanceof TypeError) return `${t("error.network_error")} [network_error]`;
  return error instanceof Error ? error.message : String(error);
}

/** The sentence, and for a 422 each field's problem on a line of its own (`password: At least 8 characters`). */
export function describeWithProblems(error: unknown): string {
  const problems = error instanceof ApiError ? error.problems : [];
  const fields = problems.map(({ loc, msg }) => `${loc.filter((part) => part !== "body").join(" › ")}: ${msg}`);
  return [describeError(error), ...fields].join("\n");
}

/** The `error` a single sign-on provider's return brings (README, "Single sign-on"), as a sentence. */
export function ssoErrorMessage(code: string): string {
  return `${sentenceOf("sso", code) ?? t("sso.signInFailed")} [${code.slice(0, 40)}]`;
}
