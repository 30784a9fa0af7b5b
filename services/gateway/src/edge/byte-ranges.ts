/**
 * Conditional and partial reads of an immutable file (RFC 9110 §13 and §14), for the downloads the
 * gateway serves whole from a service's answer: `If-None-Match` against its strong ETag, and one
 * `Range: bytes=…`. Several ranges in one request are not served (they would need a multipart
 * answer nobody here asks for).
 */

/** The bytes a `Range` asks for, both ends included. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * What to send of a file of `size` bytes whose ETag is `etag`: the whole of it, one range, or
 * nothing (the Range names no bytes it has, or is not one `bytes=` range). `If-Range` with another
 * validator than the ETag asks for the whole file, as a changed file would be sent.
 */
export function rangeOf(
  headers: { range?: string | undefined; "if-range"?: string | undefined },
  size: number,
  etag: string,
): ByteRange | "whole" | "unsatisfiable" {
  const { range } = headers;
  if (range === undefined) return "whole";
  if (headers["if-range"] !== undefined && headers["if-range"].trim() !== etag) return "whole";
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(range);
  if (!match) return "unsatisfiable";
  const [, first = "", last = ""] = match;
  if (first === "" && last === "") return "unsatisfiable";
  if (first === "") {
    // The last n bytes.
    const length = Number(last);
    return length === 0 || size === 0 ? "unsatisfiable" : { start: Math.max(0, size - length), end: size - 1 };
  }
  const start = Number(first);
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  return start >= size || (last !== "" && Number(last) < start) ? "unsatisfiable" : { start, end };
}

/** True when `If-None-Match` names `etag` (weakly, as the RFC compares for it) or is `*`. */
export function matchesNoneOf(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const opaque = (tag: string) => tag.trim().replace(/^W\//, "");
  return ifNoneMatch.split(",").some((tag) => tag.trim() === "*" || opaque(tag) === opaque(etag));
}
