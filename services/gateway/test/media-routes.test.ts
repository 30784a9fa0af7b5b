/**
 * The media routes against a fake trees process on a real gRPC server: an upload is read as one
 * file part and never past MEDIA_MAX_BYTES (here 1 MiB), the service's refusals keep their codes,
 * and a read is served whole, in a range or as 304 with the headers an image needs.
 */
import { createHash, randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import { AppError } from "@tdt/kit";
import type { UploadMediaRequest } from "@tdt/proto/tdt/trees/v1/media";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { FakeAuth } from "./support/fake-auth.js";
import { FakeTrees, SAMPLE_IMAGE } from "./support/fake-trees.js";
import { startTestGateway, type TestGateway } from "./support/gateway.js";

const MAX_BYTES = 1024 * 1024;

let auth: FakeAuth;
let trees: FakeTrees;
let gateway: TestGateway;
let engineer: string;
let technician: string;

beforeAll(async () => {
  [auth, trees] = await Promise.all([FakeAuth.start(), FakeTrees.start()]);
  gateway = await startTestGateway(auth.port, { treesPort: trees.port, mediaMaxBytes: MAX_BYTES });
  engineer = await auth.keys.accessToken({ role: "engineer" });
  technician = await auth.keys.accessToken({ role: "technician" });
});

afterAll(async () => {
  await gateway?.close();
  await Promise.all([auth?.stop(), trees?.stop()]);
});

beforeEach(() => trees.reset());

interface Part {
  name: string;
  filename?: string;
  type?: string;
  content: Buffer | string;
}

const BOUNDARY = "tdt-test-boundary";

/** A multipart body of `parts`, as a browser's FormData sends it. */
function multipart(parts: Part[]): Buffer {
  const chunks = parts.flatMap((part) => [
    Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part.name}"` +
        (part.filename === undefined ? "" : `; filename="${part.filename}"`) +
        (part.type === undefined ? "" : `\r\nContent-Type: ${part.type}`) +
        "\r\n\r\n",
    ),
    Buffer.from(part.content),
    Buffer.from("\r\n"),
  ]);
  return Buffer.concat([...chunks, Buffer.from(`--${BOUNDARY}--\r\n`)]);
}

const upload = (
  payload: Buffer | string,
  token = engineer,
  contentType = `multipart/form-data; boundary=${BOUNDARY}`,
) =>
  gateway.app.inject({
    method: "POST",
    url: "/api/v1/media",
    headers: { authorization: `Bearer ${token}`, "content-type": contentType },
    payload,
  });

describe("POST /api/v1/media", () => {
  it("sends the file part's bytes and name to the service, whatever type the part declares, and answers 201", async () => {
    const content = Buffer.from("not even an image: the service judges the bytes");
    const response = await upload(multipart([{ name: "file", filename: "photo.png", type: "text/html", content }]));
    expect(response.statusCode, response.body).toBe(201);
    expect(Object.keys(response.json()).sort()).toEqual([
      "bytes",
      "content_type",
      "height",
      "id",
      "sha256",
      "url",
      "width",
    ]);
    expect(response.json().url).toBe(`/api/v1/media/${response.json().id}`);
    const [call] = trees.callsOf("uploadMedia");
    const sent = call?.request as UploadMediaRequest;
    expect(Buffer.from(sent.content).equals(content)).toBe(true);
    expect(sent.filename).toBe("photo.png");
    expect(call?.accessToken).toBe(engineer);
  });

  it("is 400 media_file_required without one file part named file", async () => {
    const image = { filename: "a.png", content: SAMPLE_IMAGE };
    for (const parts of [
      [],
      [{ name: "image", ...image }],
      [
        { name: "file", content: "a text field" },
        { name: "file", ...image },
      ],
      [
        { name: "file", ...image },
        { name: "file", ...image },
      ],
      [
        { name: "file", ...image },
        { name: "caption", content: "beside the file" },
      ],
    ] as Part[][]) {
      const response = await upload(multipart(parts));
      expect(response.statusCode, JSON.stringify(parts.map((part) => part.name))).toBe(400);
      expect(response.json()).toEqual({ detail: "media_file_required" });
    }
    expect(trees.callsOf("uploadMedia")).toHaveLength(0);
  });

  it("is 400 for JSON, no body, or a multipart body without a boundary", async () => {
    const json = await upload(JSON.stringify({ file: SAMPLE_IMAGE.toString("base64") }), engineer, "application/json");
    expect(json.statusCode).toBe(400);
    expect(json.json()).toEqual({ detail: "unsupported_content_type" });
    const none = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/media",
      headers: { authorization: `Bearer ${engineer}` },
    });
    expect(none.statusCode).toBe(400);
    expect(none.json()).toEqual({ detail: "unsupported_content_type" });
    const unbounded = await upload(
      multipart([{ name: "file", content: SAMPLE_IMAGE }]),
      engineer,
      "multipart/form-data",
    );
    expect(unbounded.statusCode).toBe(400);
    expect(unbounded.json()).toEqual({ detail: "bad_request" });
    expect(trees.callsOf("uploadMedia")).toHaveLength(0);
  });

  it("is 400 bad_request for a body that ends inside its part, and the gateway lives on", async () => {
    const whole = multipart([{ name: "file", filename: "a.png", content: SAMPLE_IMAGE }]);
    const cut = whole.subarray(0, whole.length - `\r\n--${BOUNDARY}--\r\n`.length);
    const response = await upload(cut);
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ detail: "bad_request" });
    expect((await upload(whole)).statusCode).toBe(201);
  });

  it("cuts a file name past the contract's 255 characters short (it is the client's label, kept nowhere)", async () => {
    const filename = `${"é".repeat(300)}.png`;
    const response = await upload(multipart([{ name: "file", filename, content: SAMPLE_IMAGE }]));
    expect(response.statusCode).toBe(201);
    const [call] = trees.callsOf("uploadMedia");
    expect((call?.request as UploadMediaRequest | undefined)?.filename).toBe("é".repeat(255));
  });

  it("is 413 media_too_large for a file past MEDIA_MAX_BYTES, or a Content-Length past it, unsent to the service", async () => {
    const large = await upload(multipart([{ name: "file", filename: "a.png", content: Buffer.alloc(MAX_BYTES + 1) }]));
    expect(large.statusCode).toBe(413);
    expect(large.json()).toEqual({ detail: "media_too_large" });
    expect(large.headers.connection).toBe("close");
    const declared = await gateway.app.inject({
      method: "POST",
      url: "/api/v1/media",
      headers: {
        authorization: `Bearer ${engineer}`,
        "content-type": `multipart/form-data; boundary=${BOUNDARY}`,
        "content-length": String(2 * MAX_BYTES),
      },
      payload: multipart([{ name: "file", filename: "a.png", content: SAMPLE_IMAGE }]),
    });
    expect(declared.statusCode).toBe(413);
    expect(declared.json()).toEqual({ detail: "media_too_large" });
    // A file of exactly the limit is the service's to judge.
    const atLimit = await upload(multipart([{ name: "file", filename: "a.png", content: Buffer.alloc(MAX_BYTES) }]));
    expect(atLimit.statusCode).toBe(201);
    expect(trees.callsOf("uploadMedia")).toHaveLength(1);
  });

  it("keeps the service's refusals: 415 unsupported_media, 413 image_too_large", async () => {
    for (const [code, status] of [
      ["unsupported_media", 415],
      ["image_too_large", 413],
      ["media_too_large", 413],
    ] as const) {
      trees.answer("uploadMedia", async () => {
        throw new AppError(code);
      });
      const response = await upload(multipart([{ name: "file", filename: "a.png", content: SAMPLE_IMAGE }]));
      expect(response.statusCode, code).toBe(status);
      expect(response.json()).toEqual({ detail: code });
    }
  });

  it("refuses a technician (403) before reading the body", async () => {
    const response = await upload(multipart([{ name: "file", filename: "a.png", content: SAMPLE_IMAGE }]), technician);
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({ detail: "forbidden" });
    expect(trees.calls).toEqual([]);
  });
});

describe("an upload over a real connection", () => {
  let url: string;

  beforeAll(async () => {
    url = await gateway.app.listen({ port: 0, host: "127.0.0.1" });
  });

  /** 64 MiB of one file part, streamed: `pulled` says how much the client was asked for. */
  function endless(counter: { pulled: number }) {
    return async function* () {
      yield Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n\r\n`);
      const chunk = Buffer.alloc(64 * 1024, 7);
      while (counter.pulled < 64 * 1024 * 1024) {
        counter.pulled += chunk.length;
        yield chunk;
      }
    };
  }

  it.each([
    ["chunked", {}],
    ["with a Content-Length", { "content-length": String(64 * 1024 * 1024 + 200) }],
  ])("past the limit, %s, is answered 413 while the client is still sending, the rest unread", async (_how, extra) => {
    for (let round = 0; round < 10; round++) {
      const counter = { pulled: 0 };
      const response = await fetch(`${url}/api/v1/media`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${engineer}`,
          "content-type": `multipart/form-data; boundary=${BOUNDARY}`,
          ...extra,
        },
        body: Readable.toWeb(Readable.from(endless(counter)())) as ReadableStream,
        duplex: "half",
      } as RequestInit);
      expect(response.status).toBe(413);
      expect(await response.json()).toEqual({ detail: "media_too_large" });
      // The limit, the socket buffers on both sides and the client's read-ahead; never the 64 MiB.
      expect(counter.pulled).toBeLessThan(16 * 1024 * 1024);
    }
    expect(trees.callsOf("uploadMedia")).toHaveLength(0);
  });
});

describe("GET /api/v1/media/{id}", () => {
  const id = randomUUID();
  const etag = `"${createHash("sha256").update(SAMPLE_IMAGE).digest("hex")}"`;
  const read = (headers: Record<string, string> = {}, token = technician) =>
    gateway.app.inject({
      method: "GET",
      url: `/api/v1/media/${id}`,
      headers: { authorization: `Bearer ${token}`, ...headers },
    });

  it("serves the bytes as an image, cacheable privately for a year, never sniffed or run", async () => {
    const response = await read();
    expect(response.statusCode).toBe(200);
    expect(response.rawPayload.equals(SAMPLE_IMAGE)).toBe(true);
    expect(response.headers).toMatchObject({
      "content-type": "image/png",
      etag,
      "cache-control": "private, max-age=31536000, immutable",
      "accept-ranges": "bytes",
      "content-disposition": "inline",
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none'",
      "content-length": String(SAMPLE_IMAGE.length),
    });
    expect(trees.callsOf("getMedia")[0]?.request).toEqual({ id });
  });

  it("answers 304 to If-None-Match with its ETag (weak or in a list), and the bytes to another", async () => {
    for (const tag of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const response = await read({ "if-none-match": tag });
      expect(response.statusCode, tag).toBe(304);
      expect(response.body).toBe("");
      expect(response.headers.etag).toBe(etag);
      expect(response.headers["cache-control"]).toBe("private, max-age=31536000, immutable");
    }
    expect((await read({ "if-none-match": '"other"' })).statusCode).toBe(200);
  });

  it("answers one range with 206 and Content-Range", async () => {
    const size = SAMPLE_IMAGE.length;
    for (const [range, start, end] of [
      ["bytes=0-7", 0, 7],
      ["bytes=8-", 8, size - 1],
      ["bytes=-4", size - 4, size - 1],
      ["bytes=3-1000", 3, size - 1],
      ["bytes=-1000", 0, size - 1],
    ] as const) {
      const response = await read({ range });
      expect(response.statusCode, range).toBe(206);
      expect(response.headers["content-range"]).toBe(`bytes ${start}-${end}/${size}`);
      expect(response.rawPayload.equals(SAMPLE_IMAGE.subarray(start, end + 1)), range).toBe(true);
      expect(response.headers["content-type"]).toBe("image/png");
    }
  });

  it("is 416 for a range it does not have or cannot serve, with its size, and no caching headers", async () => {
    const size = SAMPLE_IMAGE.length;
    for (const range of [
      `bytes=${size}-`,
      "bytes=5-2",
      "bytes=-0",
      "bytes=0-1,4-5",
      "items=0-1",
      "bytes=x-y",
      "bytes=-",
    ]) {
      const response = await read({ range });
      expect(response.statusCode, range).toBe(416);
      expect(response.json()).toEqual({ detail: "range_not_satisfiable" });
      expect(response.headers["content-range"]).toBe(`bytes */${size}`);
      expect(response.headers["cache-control"]).toBeUndefined();
    }
  });

  it("serves the whole image when If-Range names another validator, and If-None-Match wins over Range", async () => {
    const changed = await read({ range: "bytes=0-1", "if-range": '"older"' });
    expect(changed.statusCode).toBe(200);
    expect(changed.rawPayload.equals(SAMPLE_IMAGE)).toBe(true);
    expect((await read({ range: "bytes=0-1", "if-range": etag })).statusCode).toBe(206);
    expect((await read({ range: "bytes=99999-", "if-none-match": etag })).statusCode).toBe(304);
  });

  it("is 404 for an id the service does not know, 422 for one that is no UUID, 401 without a token", async () => {
    trees.answer("getMedia", async () => {
      throw new AppError("not_found");
    });
    const unknown = await read();
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ detail: "not_found" });
    const malformed = await gateway.app.inject({
      method: "GET",
      url: "/api/v1/media/not-a-uuid",
      headers: { authorization: `Bearer ${technician}` },
    });
    expect(malformed.statusCode).toBe(422);
    const anonymous = await gateway.app.inject({ method: "GET", url: `/api/v1/media/${id}` });
    expect(anonymous.statusCode).toBe(401);
  });
});
