/**
 * Which database each service uses, for the start's summary, from the service's own
 * `database connected` log line (the kit writes it once the pool answers): the names live in
 * each service's main, and `<SERVICE>_DATABASE_URL` may put one anywhere.
 */
import { SERVICES, type ServiceName } from "./stack.js";

export interface ConnectedDatabase {
  database: string;
  /** Its URL, password redacted, as the service logged it. */
  url: string;
}

export function connectedDatabaseIn(line: string): ConnectedDatabase | undefined {
  if (!line.startsWith("{") || !line.includes('"database connected"')) return undefined;
  try {
    const entry = JSON.parse(line) as { msg?: unknown; database?: unknown; url?: unknown };
    if (entry.msg !== "database connected" || typeof entry.database !== "string") return undefined;
    return { database: entry.database, url: typeof entry.url === "string" ? entry.url : "" };
  } catch {
    return undefined;
  }
}

/**
 * "auth tdt_auth, trees tdt_trees, sessions tdt_sessions", in the services' order; a database
 * on another server than `serverUrl` adds its URL.
 */
export function databasesLine(connected: ReadonlyMap<ServiceName, ConnectedDatabase>, serverUrl: string): string {
  const server = hostOf(serverUrl);
  const parts = SERVICES.flatMap((service) => {
    const found = connected.get(service);
    if (!found) return [];
    return [
      hostOf(found.url) === server ? `${service} ${found.database}` : `${service} ${found.database} at ${found.url}`,
    ];
  });
  return parts.join(", ") || "none logged (they are logged at LOG_LEVEL=info)";
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host;
  } catch {
    return undefined;
  }
}
