// Docker HEALTHCHECK for the gRPC services: asks grpc.health.v1.Health/Check about the whole
// server and exits 0 only when it answers SERVING. Plain JS with only @grpc/grpc-js, which every
// service image already has, so the image needs no grpc_health_probe binary.
//
//   node infra/docker/grpc-health-probe.mjs [host:port]    (default 127.0.0.1:50051)
//
// Messages are encoded by hand to avoid a protobuf library: a HealthCheckRequest with an empty
// service name is zero bytes, and HealthCheckResponse{status: SERVING} is field 1, varint 1.
//
// With mutual TLS (GRPC_TLS_CA, GRPC_TLS_CERT, GRPC_TLS_KEY, each as PEM or *_FILE, as the
// service reads them) the probe presents the service's own certificate: health answers any
// certificate of the CA. The service has already checked the settings at start.
import { readFileSync } from "node:fs";
import grpc from "@grpc/grpc-js";

function tlsPart(name) {
  const file = process.env[`${name}_FILE`]?.trim();
  if (file) return readFileSync(file);
  const text = process.env[name]?.trim();
  return text ? Buffer.from(text.replace(/\\n/g, "\n")) : undefined;
}

const address = process.argv[2] ?? "127.0.0.1:50051";
const timeoutMs = Number(process.env.HEALTH_PROBE_TIMEOUT_MS ?? 3000);
const SERVING = Buffer.from([0x08, 0x01]);

const [ca, cert, key] = ["GRPC_TLS_CA", "GRPC_TLS_CERT", "GRPC_TLS_KEY"].map(tlsPart);
const credentials = ca && cert && key ? grpc.credentials.createSsl(ca, key, cert) : grpc.credentials.createInsecure();
const client = new grpc.Client(address, credentials);
client.makeUnaryRequest(
  "/grpc.health.v1.Health/Check",
  () => Buffer.alloc(0),
  (bytes) => bytes,
  Buffer.alloc(0),
  { deadline: Date.now() + timeoutMs },
  (error, response) => {
    client.close();
    if (error) {
      console.error(`${address}: ${error.message}`);
      process.exit(1);
    }
    if (!SERVING.equals(response)) {
      console.error(`${address}: not serving (response ${response.toString("hex") || "empty"})`);
      process.exit(1);
    }
    process.exit(0);
  },
);
