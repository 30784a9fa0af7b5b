/**
 * The kit's client retries a read that met UNAVAILABLE and never a write: a real gRPC server
 * that refuses the first call of each method with UNAVAILABLE, counting what reaches it. A
 * service whose database is away says so (toServiceError), and that read is not retried: every
 * replica shares the database.
 */
import { Server, ServerCredentials, type sendUnaryData, status } from "@grpc/grpc-js";
import { createServiceClient, type ServiceClient, toServiceError } from "@tdt/kit";
import {
  CreateTreeRequest,
  DeleteTreeRequest,
  GetTreeRequest,
  ListCategoriesRequest,
  ListTreesRequest,
  TreesServiceService,
} from "@tdt/proto/tdt/trees/v1/trees";
import { grpcErrorOf } from "@tdt/test-support/thrown";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const options = { requestId: "retry-test" };

describe("retries of the kit's gRPC client", () => {
  const seen = new Map<string, number>();
  let server: Server;
  let client: ServiceClient<typeof TreesServiceService>;

  /** Answers UNAVAILABLE to the first call of a method, then `answer`. */
  const failingOnce =
    (method: string, answer: unknown) =>
    (_call: unknown, callback: sendUnaryData<unknown>): void => {
      const count = (seen.get(method) ?? 0) + 1;
      seen.set(method, count);
      if (count === 1) callback({ code: status.UNAVAILABLE, details: "try elsewhere" });
      else callback(null, answer);
    };

  beforeAll(async () => {
    server = new Server();
    server.addService(TreesServiceService, {
      getTree: failingOnce("getTree", { tree: undefined }),
      listTrees: failingOnce("listTrees", { trees: [], total: 0 }),
      createTree: failingOnce("createTree", {}),
      deleteTree: failingOnce("deleteTree", {}),
      // As a service answers while its database is unreachable (a refused connection).
      listCategories: (_call: unknown, callback: sendUnaryData<unknown>) => {
        seen.set("listCategories", (seen.get("listCategories") ?? 0) + 1);
        callback(toServiceError(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" })));
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) =>
        error ? reject(error) : resolve(bound),
      ),
    );
    client = createServiceClient(TreesServiceService, `127.0.0.1:${port}`, { timeoutMs: 3_000 });
  });

  afterAll(() => {
    client?.close();
    server?.forceShutdown();
  });

  it("retries a read on UNAVAILABLE: the server sees two calls, the caller gets the answer", async () => {
    await expect(client.getTree(GetTreeRequest.fromPartial({ id: "t" }), options)).resolves.toBeDefined();
    expect(seen.get("getTree")).toBe(2);
    await expect(client.listTrees(ListTreesRequest.fromPartial({}), options)).resolves.toMatchObject({ total: 0 });
    expect(seen.get("listTrees")).toBe(2);
  });

  it("never retries a write: the caller gets UNAVAILABLE, the server saw one call", async () => {
    const writes = {
      createTree: () => client.createTree(CreateTreeRequest.fromPartial({}), options),
      deleteTree: () => client.deleteTree(DeleteTreeRequest.fromPartial({ id: "t" }), options),
    };
    for (const [write, call] of Object.entries(writes)) {
      const error = await grpcErrorOf(call());
      expect(error.code).toBe(status.UNAVAILABLE);
      // Long enough for any retry backoff to have fired.
      await new Promise((wake) => setTimeout(wake, 700));
      expect(seen.get(write)).toBe(1);
    }
  });

  it("does not retry a read whose service has no database: the caller gets database_unavailable at once", async () => {
    const error = await grpcErrorOf(client.listCategories(ListCategoriesRequest.fromPartial({}), options));
    expect(error.code).toBe(status.UNAVAILABLE);
    expect(error.details).toBe("database_unavailable");
    await new Promise((wake) => setTimeout(wake, 700));
    expect(seen.get("listCategories")).toBe(1);
  });
});
