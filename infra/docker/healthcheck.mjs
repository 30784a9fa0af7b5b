// Docker HEALTHCHECK of the one image (Dockerfile): picks the check by TDT_SERVICE, the
// image's build argument, and follows a changed *_PORT.
// - gateway: GET /health, not /ready, so a stopped downstream service does not mark it unhealthy.
// - auth, trees, sessions, hooks: grpc-health-probe.mjs (grpc.health.v1, mutual TLS when configured).
const DEFAULT_PORTS = { gateway: 8000, auth: 50051, trees: 50052, sessions: 50053, hooks: 50054 };

const service = process.env.TDT_SERVICE ?? "";
if (!(service in DEFAULT_PORTS)) {
  console.error(`TDT_SERVICE must be one of ${Object.keys(DEFAULT_PORTS).join(", ")} (got "${service}")`);
  process.exit(1);
}
const port = process.env[`${service.toUpperCase()}_PORT`] || DEFAULT_PORTS[service];

if (service === "gateway") {
  fetch(`http://127.0.0.1:${port}/health`).then(
    (response) => process.exit(response.ok ? 0 : 1),
    () => process.exit(1),
  );
} else {
  process.argv[2] = `127.0.0.1:${port}`;
  await import("./grpc-health-probe.mjs");
}
