/**
 * What a caller that skips the gateway can send over gRPC: NUL characters in keys, a context
 * nested past the limit, or bytes the recursive protobuf decoder cannot walk. Every one is
 * INVALID_ARGUMENT with a problem list, never INTERNAL, and the server keeps serving.
 */
import { Client, credentials, Metadata, type ServiceError } from "@grpc/grpc-js";
import {
  AppError,
  createServiceClient,
  type GrpcServerHandle,
  GrpcStatus,
  type Handlers,
  implement,
  MAX_NESTING_DEPTH,
  readServiceError,
  type ServiceClient,
  startGrpcServer,
} from "@tdt/kit";
import { SessionsServiceService } from "@tdt/proto/tdt/sessions/v1/sessions";
import { testLogger } from "@tdt/test-support/silent-logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const log = testLogger("kit-grpc-guard-test");
type Sessions = typeof SessionsServiceService;

let server: GrpcServerHandle;
let client: ServiceClient<Sessions>;
let raw: Client;
let handled = 0;

const notFound = async () => {
  throw new AppError("not_found");
};
/** Every method answers NOT_FOUND but StartSession, which counts the calls that reach it. */
const handlers = {
  ...(Object.fromEntries(
    Object.keys(SessionsServiceService).map((name) => [name, notFound]),
  ) as unknown as Handlers<Sessions>),
  startSession: async () => {
    handled++;
    return {};
  },
};

beforeAll(async () => {
  server = await startGrpcServer({
    host: "127.0.0.1",
    port: 0,
    bindings: [implement(SessionsServiceService, handlers, log)],
    serviceNames: ["tdt.sessions.v1.SessionsService"],
    log,
  });
  client = createServiceClient(SessionsServiceService, `127.0.0.1:${server.port}`, { timeoutMs: 10_000 });
  raw = new Client(`127.0.0.1:${server.port}`, credentials.createInsecure(), {
    "grpc.max_send_message_length": 16 * 1024 * 1024,
  });
});

afterAll(async () => {
  client?.close();
  raw?.close();
  await server?.shutdown(2_000);
});

/** Sends `bytes` as a StartSession request, as no generated client would encode them. */
function sendRaw(bytes: Buffer): Promise<ServiceError | undefined> {
  return new Promise((resolve) => {
    raw.makeUnaryRequest(
      SessionsServiceService.startSession.path,
      (value: Buffer) => value,
      (value: Buffer) => value,
      bytes,
      new Metadata(),
      { deadline: new Date(Date.now() + 20_000) },
      (error) => resolve(error ?? undefined),
    );
  });
}

function varint(value: number): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest > 0x7f) {
    bytes.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  bytes.push(rest);
  return bytes;
}

/**
 * A StartSessionRequest whose `context` is a Struct `{"a": {"a": … {}}}` `depth` levels deep,
 * written back to front into one buffer: encoding it with the generated (recursive) encoder
 * would overflow this side's stack first.
 */
function deepStartSession(depth: number): Buffer {
  const buffer = Buffer.alloc(depth * 20 + 64);
  let start = buffer.length; // the message so far is buffer[start..]
  const prepend = (bytes: number[]) => {
    start -= bytes.length;
    buffer.set(bytes, start);
  };
  for (let level = 0; level < depth; level++) {
    const struct = buffer.length - start;
    prepend([0x2a, ...varint(struct)]); // Value.struct_value
    const value = buffer.length - start;
    prepend([0x0a, 0x01, 0x61, 0x12, ...varint(value)]); // map entry: key "a", value
    const entry = buffer.length - start;
    prepend([0x0a, ...varint(entry)]); // Struct.fields
  }
  const context = buffer.length - start;
  prepend([0x12, ...varint(context)]); // StartSessionRequest.context
  prepend([0x0a, 36, ...Buffer.from("00000000-0000-4000-8000-000000000000")]); // tree_id
  return buffer.subarray(start);
}

describe("requests a service refuses before its handler runs", () => {
  it("a context nested just past the limit: 422 at the first level too deep", async () => {
    // Within the limit, the handler runs.
    await client.startSession({ tree_id: "x", context: { a: { b: [[{ c: 1 }]] } }, locale: "" }, { requestId: "fine" });
    const context = { a: {} as Record<string, unknown> };
    let inner = context.a;
    for (let level = 0; level < MAX_NESTING_DEPTH - 1; level++) {
      inner.a = {};
      inner = inner.a as Record<string, unknown>;
    }
    const before = handled;
    const error = await client
      .startSession({ tree_id: "x", context, locale: "" }, { requestId: "deep" })
      .catch((e) => e);
    const read = readServiceError(error);
    expect(read.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(read.problems?.[0]).toMatchObject({ type: "too_deep" });
    expect(read.problems?.[0]?.loc.slice(0, 3)).toEqual(["body", "context", "a"]);
    expect(handled).toBe(before);
  });

  it("a NUL character in a context key: 422 at that key", async () => {
    const error = await client
      .startSession(
        { tree_id: "x", context: { "tick\u0000et": "1", "é\u0000": 2 }, locale: "" },
        { requestId: "nul-key" },
      )
      .catch((e) => e);
    expect(readServiceError(error)).toMatchObject({
      code: GrpcStatus.INVALID_ARGUMENT,
      problems: [
        { loc: ["body", "context", "tick\u0000et"], type: "key_nul" },
        { loc: ["body", "context", "é\u0000"], type: "key_nul" },
      ],
    });
  });

  it("a Struct 20,000 and 200,000 levels deep: 422 too_deep, never INTERNAL, and the server still answers", async () => {
    const shallow = await sendRaw(deepStartSession(3));
    expect(shallow).toBeUndefined();
    for (const depth of [20_000, 200_000]) {
      const error = await sendRaw(deepStartSession(depth));
      expect(error, `${depth} levels`).toBeDefined();
      const read = readServiceError(error as ServiceError);
      expect(read.code, `${depth} levels`).toBe(GrpcStatus.INVALID_ARGUMENT);
      expect(read.problems, `${depth} levels`).toEqual([
        { loc: ["body"], msg: expect.any(String), type: expect.stringMatching(/^too_deep$/) },
      ]);
    }
    expect(await sendRaw(deepStartSession(3))).toBeUndefined();
  });

  it("bytes that are no protobuf message: 422 undecodable", async () => {
    const error = await sendRaw(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 0x01]));
    expect(readServiceError(error as ServiceError)).toMatchObject({
      code: GrpcStatus.INVALID_ARGUMENT,
      problems: [{ loc: ["body"], type: "undecodable" }],
    });
  });
});
