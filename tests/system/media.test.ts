/**
 * Images on nodes (issue 30), through the gateway and around it: an engineer uploads a PNG, a
 * JPEG or a WebP as a browser's FormData sends it and gets the image as stored (metadata gone,
 * the same image the same id); anyone of the organization reads it whole, as 304 or in a range;
 * hostile uploads (HTML, SVG, a polyglot, a decompression bomb, 10,000 × 10,000, past
 * MEDIA_MAX_BYTES) are refused, the last before the gateway has read it; another organization
 * never sees it; and a caller that skips the gateway meets the same limits at the trees service.
 */
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import type { ServiceError } from "@grpc/grpc-js";
import { createServiceClient, GrpcStatus, readServiceError } from "@tdt/kit";
import { MediaServiceService } from "@tdt/proto/tdt/trees/v1/media";
import { connect } from "@tdt/test-support/database";
import { blackPng, HOSTILE_HTML, PNG_SIGNATURE } from "@tdt/test-support/images";
import { makeOrganization } from "@tdt/test-support/organizations";
import { type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const MEDIA_MAX_BYTES = 5 * 1024 * 1024;

let running: SystemWithAdmin;
let engineer: string;
let technician: string;
/** An engineer of another organization. */
let outsider: string;
let media: ReturnType<typeof createServiceClient<typeof MediaServiceService>>;

beforeAll(async () => {
  running = await startSystemWithAdmin();
  const { client, admin, system } = running;
  engineer = await client.engineer(admin);
  technician = (await client.user("viewer")).tokens.access_token;
  const stranger = await client.user("stranger");
  const authDb = connect(system.databases.auth.url);
  try {
    const other = await makeOrganization(authDb, [{ id: stranger.id, role: "engineer" }]);
    const switched = await client.call<{ access_token: string }>("POST", "/api/v1/auth/switch-organization", {
      token: stranger.tokens.access_token,
      json: { organization_id: other.id },
    });
    expect(switched.status).toBe(200);
    outsider = switched.body.access_token;
  } finally {
    await authDb.end();
  }
  media = createServiceClient(MediaServiceService, system.addresses.trees, { timeoutMs: 30_000 });
}, 120_000);

afterAll(async () => {
  media?.close();
  await running?.stop();
});

interface Media {
  id: string;
  url: string;
  sha256: string;
  content_type: string;
  width: number;
  height: number;
  bytes: number;
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

/** An upload as a browser's FormData sends it: `bytes` as the part `field`, declared as `type`. */
async function upload(
  bytes: Buffer,
  options: { token?: string; field?: string; type?: string; filename?: string } = {},
): Promise<{ status: number; body: Media & { detail?: unknown } }> {
  const form = new FormData();
  form.append(
    options.field ?? "file",
    new Blob([bytes], { type: options.type ?? "image/png" }),
    options.filename ?? "image.png",
  );
  const response = await fetch(`${running.system.url}/api/v1/media`, {
    method: "POST",
    headers: { authorization: `Bearer ${options.token ?? engineer}` },
    body: form,
  });
  return { status: response.status, body: (await response.json()) as Media & { detail?: unknown } };
}

async function uploaded(bytes: Buffer, options: Parameters<typeof upload>[1] = {}): Promise<Media> {
  const answer = await upload(bytes, options);
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body;
}

async function read(url: string, headers: Record<string, string> = {}, token = technician) {
  const response = await fetch(`${running.system.url}${url}`, {
    headers: { authorization: `Bearer ${token}`, ...headers },
  });
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
}

const colour = (width: number, height: number, background = "#3366cc") =>
  sharp({ create: { width, height, channels: 3, background } });

describe("an upload", () => {
  it.each([
    ["png", "image/png", () => colour(64, 48).png().toBuffer()],
    ["jpeg", "image/jpeg", () => colour(64, 48).jpeg().toBuffer()],
    ["webp", "image/webp", () => colour(64, 48).webp().toBuffer()],
  ])("of a %s is 201 with the image as stored, served byte for byte", async (format, contentType, make) => {
    const made = await uploaded(await make(), { type: "application/octet-stream", filename: "photo.bin" });
    expect(made).toMatchObject({ url: `/api/v1/media/${made.id}`, content_type: contentType, width: 64, height: 48 });
    expect(made.sha256).toMatch(/^[0-9a-f]{64}$/);
    const served = await read(made.url);
    expect(served.status).toBe(200);
    expect(served.headers.get("content-type")).toBe(contentType);
    expect(sha256(served.bytes)).toBe(made.sha256);
    expect(served.bytes.length).toBe(made.bytes);
    expect((await sharp(served.bytes).metadata()).format).toBe(format);
  });

  it("of the same image again is the same id, whoever of the organization sends it", async () => {
    const png = await colour(20, 10, "#aa0000").png().toBuffer();
    const first = await uploaded(png);
    const again = await uploaded(png, { filename: "another-name.png" });
    const byTheAdmin = await uploaded(png, { token: running.admin });
    expect([again.id, byTheAdmin.id]).toEqual([first.id, first.id]);
    expect(again.sha256).toBe(first.sha256);
  });

  it("of a photo with EXIF and GPS is stored and served without them, turned upright", async () => {
    const photo = await colour(64, 48)
      .withMetadata({ orientation: 6 })
      .jpeg()
      .withExif({ IFD0: { Copyright: "TDT-OWNER-MARK" }, IFD3: { GPSMapDatum: "TDT-GPS-MARK", GPSLatitudeRef: "N" } })
      .toBuffer();
    expect(photo.includes("TDT-GPS-MARK")).toBe(true);
    const made = await uploaded(photo, { type: "image/jpeg", filename: "site.jpg" });
    expect({ width: made.width, height: made.height }).toEqual({ width: 48, height: 64 });
    const served = await read(made.url);
    expect(served.bytes.includes("TDT-GPS-MARK") || served.bytes.includes("TDT-OWNER-MARK")).toBe(false);
    const meta = await sharp(served.bytes).metadata();
    expect({ exif: meta.exif, orientation: meta.orientation }).toEqual({ exif: undefined, orientation: undefined });
  });
});

describe("a read", () => {
  let image: Media;

  beforeAll(async () => {
    image = await uploaded(await colour(300, 200, "#00aa66").png().toBuffer());
  });

  it("is cacheable privately for a year under its SHA-256, never sniffed or run, and 304 to that ETag", async () => {
    const served = await read(image.url);
    const etag = `"${image.sha256}"`;
    expect(Object.fromEntries(served.headers)).toMatchObject({
      etag,
      "cache-control": "private, max-age=31536000, immutable",
      "x-content-type-options": "nosniff",
      "content-security-policy": "default-src 'none'",
      "content-disposition": "inline",
      "accept-ranges": "bytes",
    });
    const kept = await read(image.url, { "if-none-match": etag });
    expect(kept.status).toBe(304);
    expect(kept.bytes.length).toBe(0);
    expect(kept.headers.get("etag")).toBe(etag);
    expect((await read(image.url, { "if-none-match": '"something-else"' })).status).toBe(200);
  });

  it("of a range is 206 with those bytes, and 416 for a range the image does not have", async () => {
    const whole = (await read(image.url)).bytes;
    const part = await read(image.url, { range: "bytes=100-199" });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 100-199/${whole.length}`);
    expect(part.bytes.equals(whole.subarray(100, 200))).toBe(true);
    const tail = await read(image.url, { range: "bytes=-10" });
    expect(tail.bytes.equals(whole.subarray(whole.length - 10))).toBe(true);
    const beyond = await read(image.url, { range: `bytes=${whole.length}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe(`bytes */${whole.length}`);
    expect(JSON.parse(beyond.bytes.toString())).toEqual({ detail: "range_not_satisfiable" });
  });

  it("of an unknown id is 404", async () => {
    expect((await read("/api/v1/media/7c9e6679-7425-40de-944b-e07fc1f90ae7")).status).toBe(404);
  });
});

describe("a hostile upload", () => {
  it.each([
    ["HTML declared as a PNG", HOSTILE_HTML],
    [
      "SVG with a script",
      Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>'),
    ],
    ["a PNG signature over HTML", Buffer.concat([PNG_SIGNATURE, HOSTILE_HTML])],
    ["a GIF", () => colour(8, 8).gif().toBuffer()],
  ])("%s is 415 unsupported_media", async (_name, bytes) => {
    const sent = typeof bytes === "function" ? await bytes() : bytes;
    const answer = await upload(sent, { type: "image/png", filename: "innocent.png" });
    expect(answer.status).toBe(415);
    expect(answer.body).toEqual({ detail: "unsupported_media" });
  });

  it("a decompression bomb (20,000 × 20,000 in ~50 KB) and a 10,000 × 10,000 image are 413 image_too_large", async () => {
    const bomb = blackPng(20_000, 20_000);
    expect(bomb.length).toBeLessThan(100_000);
    const huge = await sharp(Buffer.alloc(10_000 * 10_000), { raw: { width: 10_000, height: 10_000, channels: 1 } })
      .jpeg({ quality: 10 })
      .toBuffer();
    expect(huge.length).toBeLessThan(MEDIA_MAX_BYTES);
    for (const image of [bomb, huge]) {
      const answer = await upload(image);
      expect(answer.status).toBe(413);
      expect(answer.body).toEqual({ detail: "image_too_large" });
    }
    // The trees service lived through both.
    expect((await fetch(`${running.system.url}/ready`)).status).toBe(200);
  });

  it("past MEDIA_MAX_BYTES is 413 media_too_large, answered before the gateway has read it all", async () => {
    const whole = 64 * 1024 * 1024;
    let pulled = 0;
    async function* body() {
      yield Buffer.from('--edge\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n\r\n');
      yield PNG_SIGNATURE;
      const chunk = Buffer.alloc(256 * 1024, 0x41);
      while (pulled < whole) {
        pulled += chunk.length;
        yield chunk;
      }
    }
    const response = await fetch(`${running.system.url}/api/v1/media`, {
      method: "POST",
      headers: { authorization: `Bearer ${engineer}`, "content-type": "multipart/form-data; boundary=edge" },
      body: Readable.toWeb(Readable.from(body())) as ReadableStream,
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ detail: "media_too_large" });
    // The limit, the sockets' buffers and the client's read-ahead: far from the 64 MiB it had to send.
    expect(pulled).toBeLessThan(24 * 1024 * 1024);
    // An image just over the limit, as a browser sends it (with its Content-Length), is refused alike.
    const over = await upload(Buffer.concat([PNG_SIGNATURE, Buffer.alloc(MEDIA_MAX_BYTES)]));
    expect(over.status).toBe(413);
    expect(over.body).toEqual({ detail: "media_too_large" });
  });

  it("without a file part named file is 400 media_file_required; JSON is 400 unsupported_content_type", async () => {
    const png = await colour(8, 8).png().toBuffer();
    const misnamed = await upload(png, { field: "image" });
    expect(misnamed.status).toBe(400);
    expect(misnamed.body).toEqual({ detail: "media_file_required" });
    const textOnly = new FormData();
    textOnly.append("file", "just text, no file");
    textOnly.append("caption", "a second part");
    const twoParts = await fetch(`${running.system.url}/api/v1/media`, {
      method: "POST",
      headers: { authorization: `Bearer ${engineer}` },
      body: textOnly,
    });
    expect(twoParts.status).toBe(400);
    expect(await twoParts.json()).toEqual({ detail: "media_file_required" });
    const json = await running.client.call("POST", "/api/v1/media", {
      token: engineer,
      json: { file: png.toString("base64") },
    });
    expect(json.status).toBe(400);
    expect(json.body).toEqual({ detail: "unsupported_content_type" });
  });

  it("by a technician is 403", async () => {
    const answer = await upload(await colour(8, 8).png().toBuffer(), { token: technician });
    expect(answer.status).toBe(403);
    expect(answer.body).toEqual({ detail: "forbidden" });
  });
});

describe("another organization", () => {
  it("does not find an image of this one (404), and its own upload of the same image is its own", async () => {
    const png = await colour(16, 16, "#123456").png().toBuffer();
    const ours = await uploaded(png);
    const theirs = await read(ours.url, {}, outsider);
    expect(theirs.status).toBe(404);
    expect(JSON.parse(theirs.bytes.toString())).toEqual({ detail: "not_found" });
    const own = await uploaded(png, { token: outsider });
    expect(own.id).not.toBe(ours.id);
    expect(own.sha256).toBe(ours.sha256);
    expect((await read(own.url, {}, outsider)).status).toBe(200);
    expect((await read(own.url)).status).toBe(404);
  });
});

describe("an API key", () => {
  const keyWith = async (scopes: string[]) => {
    const made = await running.client.call<{ key: string }>("POST", "/api/v1/api-keys", {
      token: running.admin,
      json: { name: `media ${scopes.join(" ")}`, scopes, daily_quota: 100 },
    });
    expect(made.status).toBe(201);
    return made.body.key;
  };

  it("reads images with trees:read, and uploads them with trees:write only", async () => {
    const png = await colour(12, 12, "#0000aa").png().toBuffer();
    const image = await uploaded(png);
    const reader = await keyWith(["trees:read"]);
    expect((await read(image.url, {}, reader)).status).toBe(200);
    const refused = await upload(png, { token: reader });
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ detail: "insufficient_scope" });
    const writer = await keyWith(["trees:write"]);
    expect((await uploaded(png, { token: writer })).id).toBe(image.id);
  });
});

describe("a caller that skips the gateway", () => {
  /** How a direct call to the trees service was refused. */
  async function refusal(call: Promise<unknown>): Promise<{ code: GrpcStatus; detail: string }> {
    const error = await call.then(
      () => undefined,
      (failure: ServiceError) => failure,
    );
    if (!error) throw new Error("expected the call to be refused");
    const { code, detail } = readServiceError(error);
    return { code, detail };
  }
  const as = (token: string) => ({ requestId: "media-direct", accessToken: token });

  it("meets MEDIA_MAX_BYTES, the sniffing and the role at the trees service itself", async () => {
    const oversized = Buffer.concat([PNG_SIGNATURE, Buffer.alloc(6 * 1024 * 1024)]);
    expect(await refusal(media.uploadMedia({ content: oversized, filename: "big.png" }, as(engineer)))).toEqual({
      code: GrpcStatus.RESOURCE_EXHAUSTED,
      detail: "media_too_large",
    });
    expect(await refusal(media.uploadMedia({ content: HOSTILE_HTML, filename: "a.png" }, as(engineer)))).toEqual({
      code: GrpcStatus.INVALID_ARGUMENT,
      detail: "unsupported_media",
    });
    expect(await refusal(media.uploadMedia({ content: blackPng(20_000, 20_000), filename: "" }, as(engineer)))).toEqual(
      { code: GrpcStatus.RESOURCE_EXHAUSTED, detail: "image_too_large" },
    );
    const png = await colour(8, 8).png().toBuffer();
    expect(await refusal(media.uploadMedia({ content: png, filename: "" }, as(technician)))).toEqual({
      code: GrpcStatus.PERMISSION_DENIED,
      detail: "forbidden",
    });
    expect((await refusal(media.uploadMedia({ content: png, filename: "" }, { requestId: "anonymous" }))).code).toBe(
      GrpcStatus.UNAUTHENTICATED,
    );
  });

  it("reads its own organization's images only", async () => {
    const png = await colour(8, 8, "#654321").png().toBuffer();
    const stored = await media.uploadMedia({ content: png, filename: "direct.png" }, as(engineer));
    expect(stored.media?.url).toBe(`/api/v1/media/${stored.media?.id}`);
    const id = stored.media?.id ?? "";
    const got = await media.getMedia({ id }, as(technician));
    expect(sha256(Buffer.from(got.content))).toBe(stored.media?.sha256);
    expect(await refusal(media.getMedia({ id }, as(outsider)))).toEqual({
      code: GrpcStatus.NOT_FOUND,
      detail: "not_found",
    });
  });
});

describe("a node's images", () => {
  it("are printed in a session's PDF report: PNG and JPEG as they are, WebP converted", async () => {
    const images = await Promise.all([
      uploaded(await colour(120, 60, "#aa3300").png().toBuffer()),
      uploaded(await colour(90, 60, "#0033aa").jpeg().toBuffer(), { type: "image/jpeg" }),
      uploaded(await colour(60, 60, "#33aa00").webp().toBuffer(), { type: "image/webp" }),
    ]);
    const body = images.map((image, k) => `![Panel ${k}](media:${image.id})`).join("\n\n");
    const tree = await running.client.call<{ id: string }>("POST", "/api/v1/trees", {
      token: engineer,
      json: {
        title: "Which light is on?",
        category: "Printers",
        status: "published",
        root_node_id: "look",
        nodes: [
          { id: "look", type: "action", title: "Look at the panel", body, next: "done" },
          { id: "done", type: "solution", title: "Seen", body: "", outcome: "resolved" },
        ],
      },
    });
    expect(tree.status).toBe(201);
    const session = await running.client.call<{ id: string }>("POST", "/api/v1/sessions", {
      token: technician,
      json: { tree_id: tree.body.id },
    });
    const exported = await fetch(`${running.system.url}/api/v1/sessions/${session.body.id}/export?format=pdf`, {
      method: "POST",
      headers: { authorization: `Bearer ${technician}` },
    });
    expect(exported.status).toBe(200);
    const pdf = Buffer.from(await exported.arrayBuffer()).toString("latin1");
    // Each image is an XObject of its own, at its stored size.
    const drawn = [...pdf.matchAll(/\/Subtype \/Image[\s\S]{0,200}?\/Width (\d+)[\s\S]{0,60}?\/Height (\d+)/g)].map(
      (match) => `${match[1]}x${match[2]}`,
    );
    expect(drawn.sort()).toEqual(["120x60", "60x60", "90x60"]);
  });
});
