/** An error answer of the API as one type: its status, its stable `detail` code and a 422's problems. */

/** One validation problem of a 422: where (`loc`, e.g. ["body","nodes",3,"options",0,"next"]) and what. */
export interface Problem {
  loc: Array<string | number>;
  msg: string;
  type: string;
}

/** An error answer: its HTTP status and stable `detail` code, and a 422's problems. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly problems: Problem[] = [],
  ) {
    super(`${status} ${detail}`);
    this.name = "ApiError";
  }
}

/** The data of a successful answer, or an ApiError. */
export function answerOf<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error === undefined && result.response.ok) return result.data as T;
  throw errorOf(result.response.status, result.error);
}

/** The ApiError of an error answer's status and body (`{detail: code}` or `{detail: [problems]}`). */
export function errorOf(status: number, body: unknown): ApiError {
  const detail = (body as { detail?: unknown } | undefined)?.detail;
  if (Array.isArray(detail)) return new ApiError(status, "validation_error", detail as Problem[]);
  return new ApiError(status, typeof detail === "string" ? detail : `http_${status}`);
}
