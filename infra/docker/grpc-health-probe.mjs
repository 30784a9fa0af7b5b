// Docker HEALTHCHECK for the gRPC services: asks grpc.health.v1.Health/Check about the whole
// server and exits 0 only when it answers SERVING. Plain JS with only @grpc/grpc-js, which every
// service image already has, so the image needs no grpc_health_probe binary.
//
//   node infra/docker/grpc-health-probe.mjs [host:port]    (default 127.0.0.1:50051)
//
// Messages are encoded by hand to avoid a protobuf library: a HealthCheckRequest with an empty
// service name is zero bytes, and HealthCheckResponse{status: SERVING} is field 1, varint 1.
import grpc from "@grpc/grpc-js";

const address = process.argv[2] ?? "127.0.0.1:50051";
const timeoutMs = Number(process.env.HEALTH_PROBE_TIMEOUT_MS ?? 3000);
const SERVING = Buffer.from([0x08, 0x01]);

const client = new grpc.Client(address, grpc.credentials.createInsecure());
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
