/**
 * What one hop costs by itself: the CPU a caller and a server spend on one call that does no
 * work, over gRPC as the gateway calls a service (the kit's client and server, with their channel
 * options, request id, token metadata and deadline) and over HTTP/1.1 as a browser calls the
 * gateway (fetch to fastify), each with a request and an answer of a session step's size:
 *   npm run bench:hop        (BENCH_SECONDS, BENCH_WORKERS, BENCH_ANSWER_BYTES to change it)
 * The server runs in a child process, as a service does; each side's CPU is its process's
 * `process.cpuUsage()` over the measured calls.
 */
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  createLogger,
  createServiceClient,
  type GrpcServerHandle,
  implement,
  type RequestContext,
  startGrpcServer,
} from "@tdt/kit";
import Fastify from "fastify";
import { load, printTable } from "./measure.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 6);
const workers = Number(process.env.BENCH_WORKERS ?? 16);
/** About what a step's answer is halfway down a 20-question tree (a session with ten steps). */
const answerBytes = Number(process.env.BENCH_ANSWER_BYTES ?? 4096);

const bytes = (value: Buffer) => value;
/** A unary method whose messages are raw bytes: the hop without any message's own coding. */
const ECHO = {
  call: {
    path: "/tdt.bench.v1.Hop/Call",
    requestStream: false as const,
    responseStream: false as const,
    requestSerialize: bytes,
    requestDeserialize: bytes,
    responseSerialize: bytes,
    responseDeserialize: bytes,
    originalName: "call",
  },
};

type Cpu = { user: number; system: number };
const cpuMicros = (cpu: Cpu) => cpu.user + cpu.system;

async function serve(): Promise<void> {
  const log = createLogger("hop", "warn");
  const answer = Buffer.alloc(answerBytes, "x");
  const binding = implement(ECHO, { call: async (_request: Buffer, _ctx: RequestContext) => answer }, log);
  const grpc: GrpcServerHandle = await startGrpcServer({ port: 0, bindings: [binding], serviceNames: [], log });
  const http = Fastify({ logger: false });
  const body = JSON.stringify({ data: "x".repeat(answerBytes - 11) });
  http.put("/call", async (_request, reply) => reply.type("application/json").send(body));
  const address = new URL(await http.listen({ host: "127.0.0.1", port: 0 }));
  process.on("message", (message) => {
    if (message === "cpu") process.send?.(process.cpuUsage());
    if (message === "stop")
      void grpc
        .shutdown(1000)
        .then(() => http.close())
        .then(() => process.exit(0));
  });
  process.send?.({ grpc: grpc.port, http: Number(address.port) });
}

async function measure(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ["serve"], { execArgv: process.execArgv });
  const ports = await new Promise<{ grpc: number; http: number }>((resolve) => child.once("message", resolve as never));
  const serverCpu = () =>
    new Promise<Cpu>((resolve) => {
      child.once("message", resolve as never);
      child.send("cpu");
    });

  const client = createServiceClient(ECHO, `127.0.0.1:${ports.grpc}`, { timeoutMs: 5000 });
  // What the gateway sends: a request id and the caller's token.
  const options = { requestId: "0f4c2b1e-hop", accessToken: `eyJ${"x".repeat(380)}` };
  const request = Buffer.alloc(160, "r");
  const grpcCall = async () => (await client.call(request as never, options)).length === answerBytes;
  const httpUrl = `http://127.0.0.1:${ports.http}/call`;
  const httpCall = async () => {
    const response = await fetch(httpUrl, {
      method: "PUT",
      headers: { "content-type": "application/json", authorization: `Bearer ${options.accessToken}` },
      body: JSON.stringify({ op: "answer", node_id: "q1", option_id: "yes" }),
    });
    return response.ok && (await response.text()).length > 0;
  };

  const rows = [];
  for (const [name, call] of [
    ["gRPC unary call (kit client and server)", grpcCall],
    ["HTTP/1.1 PUT (fetch to fastify)", httpCall],
  ] as const) {
    await load({ workers, seconds: 1, setup: async () => undefined, step: call }); // warm up
    const server0 = await serverCpu();
    const caller0 = process.cpuUsage();
    const result = await load({ workers, seconds, setup: async () => undefined, step: call });
    const caller = cpuMicros(process.cpuUsage(caller0));
    const server = cpuMicros(await serverCpu()) - cpuMicros(server0);
    rows.push({
      hop: name,
      "calls/s": result.perSecond,
      "p50 ms": result.p50,
      "caller CPU µs/call": caller / result.requests,
      "server CPU µs/call": server / result.requests,
      failures: result.failures,
    });
  }
  client.close();
  child.send("stop");
  printTable(
    `One hop that does no work: ${workers} concurrent callers, ${seconds} s, ${answerBytes}-byte answers`,
    rows,
  );
}

await (process.argv[2] === "serve" ? serve() : measure());
