/**
 * Before the run command starts the services: is anything already listening where one of them
 * must? Finding it first gives one clear line (the service, the port, its variable) instead of a
 * bind error from deep inside a service, and nothing is started for nothing.
 */
import { DEFAULT_METRICS_PORTS, DEFAULT_PORTS } from "@tdt/kit";
import { tcpAnswers } from "./infrastructure.js";
import { SERVICES } from "./stack.js";

/** One line per service whose port answers already, e.g. "gateway: port 8000 (GATEWAY_PORT) is in use…". */
export async function takenPorts(env: NodeJS.ProcessEnv): Promise<string[]> {
  // Each service's own port, and its metrics port.
  const wanted = SERVICES.flatMap((service) => [
    { service, variable: `${service.toUpperCase()}_PORT`, fallback: DEFAULT_PORTS[service] },
    { service, variable: `${service.toUpperCase()}_METRICS_PORT`, fallback: DEFAULT_METRICS_PORTS[service] },
  ]);
  const checks = wanted.map(async ({ service, variable, fallback }) => {
    const text = env[variable]?.trim() || String(fallback);
    // A malformed value is the service's to report, as a configuration error naming it.
    if (!/^\d+$/.test(text) || Number(text) === 0) return undefined;
    return (await tcpAnswers("127.0.0.1", Number(text)))
      ? `${service}: port ${text} (${variable}) is already in use by another program`
      : undefined;
  });
  return (await Promise.all(checks)).filter((line) => line !== undefined);
}
