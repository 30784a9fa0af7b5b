/**
 * Query parameters that carry secrets somewhere in TDT's flows: a sign-in's code and state, the
 * one-time code handed to the web app (`/?code=`), mailed links' tokens (`/verify-email?token=`),
 * and whatever a confused client puts in a URL. Their values never reach a log line.
 */
const SECRET_PARAMETERS =
  /^(code|state|token|.*_token|session_state|code_verifier|binding|password|client_secret|iss)$/i;

/** The URL as a log line may show it: the path, and the query with every secret's value replaced. */
export function loggableUrl(url: string): string {
  const mark = url.indexOf("?");
  if (mark < 0) return url;
  const query = url.slice(mark + 1);
  const redacted = query
    .split("&")
    .map((pair) => {
      const equals = pair.indexOf("=");
      const name = equals < 0 ? pair : pair.slice(0, equals);
      let decoded = name;
      try {
        decoded = decodeURIComponent(name.replace(/\+/g, " "));
      } catch {
        // Undecodable: judged as sent.
      }
      return equals >= 0 && SECRET_PARAMETERS.test(decoded) ? `${name}=[redacted]` : pair;
    })
    .join("&");
  return `${url.slice(0, mark)}?${redacted}`;
}
