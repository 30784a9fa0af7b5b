/**
 * "A 500 is a bug: never for anything a client can send." 10,000 random requests at every
 * route, as every kind of caller (anonymous, technician, engineer, admin, a forged, an expired
 * and a garbage token), with hostile keys (NUL, `__proto__`, `constructor`), deep nesting, huge
 * strings and bodies around the 2 MB limit, odd content types and encodings, hostile image
 * uploads (HTML, polyglots, a decompression bomb, past MEDIA_MAX_BYTES, broken multipart), odd
 * ranges and validators, and odd query strings and paths. Nothing may answer 5xx (the services are all up, so 503/504 would be bugs
 * too), every error is `{"detail": ...}`, and every service process is still alive afterwards.
 */

import { randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import { deflateSync, gzipSync } from "node:zlib";
import { connect } from "@tdt/test-support/database";
import { signWithServiceKey } from "@tdt/test-support/forge";
import { blackPng, HOSTILE_HTML, PNG_SIGNATURE } from "@tdt/test-support/images";
import { type SystemWithAdmin, startSystemWithAdmin } from "@tdt/test-support/system";
import { printerTree } from "@tdt/test-support/trees";
import fc from "fast-check";
import { generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const REQUESTS = 10_000;
const CONCURRENCY = 4;
const BODY_LIMIT = 2 * 1024 * 1024;
const MEDIA_MAX_BYTES = 5 * 1024 * 1024;

type Caller = "anonymous" | "technician" | "engineer" | "admin" | "apiKey" | "forged" | "expired" | "garbage";
const REAL_CALLERS: Caller[] = ["technician", "engineer", "admin", "apiKey"];

let running: SystemWithAdmin;
let authorization: Record<Caller, string | undefined>;
/** What a `{name}` in a route becomes when a probe asks for the real thing. */
let ids: Record<"tree" | "victimTree" | "session" | "user" | "sid" | "webhook" | "victimKey" | "media", string>;

beforeAll(async () => {
  running = await startSystemWithAdmin();
  const { client, admin } = running;
  const engineer = await client.engineer(admin);
  const technician = await client.user("fuzzed");
  // A second login of the technician: its sid is the one probes may revoke, not the one they use.
  const spare = await client.login(technician.email, technician.password);
  const victim = await client.register(client.uniqueEmail("victim"));
  const tree = await client.call<{ id: string }>("POST", "/api/v1/trees", { token: engineer, json: printerTree() });
  const victimTree = await client.call<{ id: string }>("POST", "/api/v1/trees", {
    token: engineer,
    json: printerTree({ title: "Deleted by a probe, maybe" }),
  });
  const session = await client.call<{ id: string }>("POST", "/api/v1/sessions", {
    token: technician.tokens.access_token,
    json: { tree_id: tree.body.id },
  });
  const spareSid = JSON.parse(Buffer.from(spare.refresh_token.split(".")[1] ?? "", "base64url").toString()).sid;
  // A webhook to a closed loopback port (the test system allows loopback), and API keys: one with
  // every scope that probes call as, and one a probe may revoke.
  const webhook = await client.call<{ id: string }>("POST", "/api/v1/webhooks", {
    token: admin,
    json: { url: "http://127.0.0.1:9/hooks", events: ["tdt.session.started"] },
  });
  const keyOf = async (name: string) =>
    client.call<{ id: string; key: string }>("POST", "/api/v1/api-keys", {
      token: admin,
      json: {
        name,
        scopes: ["trees:read", "trees:write", "sessions:read", "reports:read", "webhooks:manage"],
        daily_quota: 1_000_000,
      },
    });
  const [machine, victimKey] = [await keyOf("fuzzing machine"), await keyOf("revoked by a probe, maybe")];
  const image = await fetch(`${running.system.url}/api/v1/media`, {
    method: "POST",
    headers: { authorization: `Bearer ${engineer}`, "content-type": `multipart/form-data; boundary=${BOUNDARY}` },
    body: multipart([{ name: "file", filename: "black.png", bytes: blackPng(8, 8) }]),
  });
  expect(image.status).toBe(201);
  const media = (await image.json()) as { id: string };

  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: technician.id, sid: spareSid, role: "admin", iss: "tdt-auth", aud: "tdt-api" };
  const authDb = connect(running.system.databases.auth.url);
  const expired = await signWithServiceKey(
    authDb,
    { ...claims, jti: randomUUID(), iat: now - 7200, exp: now - 3600 },
    { typ: "at+jwt" },
  ).finally(() => authDb.end());
  const { privateKey } = await generateKeyPair("EdDSA");
  const forged = await new SignJWT({ ...claims, jti: randomUUID() })
    .setProtectedHeader({ alg: "EdDSA", kid: "attacker", typ: "at+jwt" })
    .setIssuedAt(now)
    .setExpirationTime(now + 900)
    .sign(privateKey);

  authorization = {
    anonymous: undefined,
    technician: `Bearer ${technician.tokens.access_token}`,
    engineer: `Bearer ${engineer}`,
    admin: `Bearer ${admin}`,
    apiKey: `Bearer ${machine.body.key}`,
    forged: `Bearer ${forged}`,
    expired: `Bearer ${expired}`,
    garbage: "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4Iiwicm9sZSI6ImFkbWluIn0.",
  };
  ids = {
    tree: tree.body.id,
    victimTree: victimTree.body.id,
    session: session.body.id,
    user: victim.id,
    sid: spareSid,
    webhook: webhook.body.id,
    victimKey: victimKey.body.id,
    media: media.id,
  };
}, 120_000);

afterAll(async () => {
  await running?.stop();
});

/**
 * Every route. Logging out ends the caller's own login session, so only callers without one
 * (anonymous, forged, expired, garbage) log out; `{victimTree}` and `{user}` are there to be
 * deleted and changed without taking the other probes' tree and callers with them.
 */
const ROUTES: Array<[method: string, path: string]> = [
  ["GET", "/health"],
  ["GET", "/ready"],
  ["GET", "/.well-known/jwks.json"],
  ["POST", "/api/v1/auth/register"],
  ["POST", "/api/v1/auth/login"],
  ["POST", "/api/v1/auth/login/json"],
  ["POST", "/api/v1/auth/refresh"],
  ["GET", "/api/v1/auth/me"],
  ["POST", "/api/v1/auth/logout"],
  ["GET", "/api/v1/auth/sessions"],
  ["DELETE", "/api/v1/auth/sessions/{sid}"],
  ["GET", "/api/v1/auth/users"],
  ["PATCH", "/api/v1/auth/users/{user}"],
  ["GET", "/api/v1/auth/session-policy"],
  ["PUT", "/api/v1/auth/session-policy"],
  ["POST", "/api/v1/auth/verify-email"],
  ["POST", "/api/v1/auth/verify-email/resend"],
  ["POST", "/api/v1/auth/password/forgot"],
  ["POST", "/api/v1/auth/password/reset"],
  ["POST", "/api/v1/auth/me/email"],
  ["POST", "/api/v1/auth/invites"],
  ["POST", "/api/v1/auth/invites/accept"],
  ["GET", "/api/v1/trees"],
  ["GET", "/api/v1/trees/categories"],
  ["GET", "/api/v1/trees/search"],
  ["GET", "/api/v1/trees/{tree}"],
  ["GET", "/api/v1/trees/{tree}/versions"],
  ["POST", "/api/v1/trees"],
  ["PUT", "/api/v1/trees/{tree}"],
  ["DELETE", "/api/v1/trees/{victimTree}"],
  ["GET", "/api/v1/sessions"],
  ["GET", "/api/v1/sessions/{session}"],
  ["POST", "/api/v1/sessions"],
  ["PUT", "/api/v1/sessions/{session}"],
  ["POST", "/api/v1/sessions/{session}/complete"],
  ["POST", "/api/v1/sessions/{session}/export"],
  ["GET", "/api/v1/webhooks"],
  ["POST", "/api/v1/webhooks"],
  ["GET", "/api/v1/webhooks/{webhook}"],
  ["PATCH", "/api/v1/webhooks/{webhook}"],
  ["POST", "/api/v1/webhooks/{webhook}/ping"],
  ["POST", "/api/v1/webhooks/{webhook}/rotate-secret"],
  ["GET", "/api/v1/webhooks/{webhook}/deliveries"],
  ["POST", "/api/v1/webhooks/{webhook}/deliveries/{webhook}/redeliver"],
  ["POST", "/api/v1/webhooks/{webhook}/redeliver"],
  ["GET", "/api/v1/api-keys"],
  ["POST", "/api/v1/api-keys"],
  ["DELETE", "/api/v1/api-keys/{victimKey}"],
  ["POST", "/api/v1/media"],
  ["GET", "/api/v1/media/{media}"],
  ["GET", "/api/v1/nowhere/{tree}"],
];

/** A body as it goes on the wire: made when sent, so that 2 MB payloads cost nothing until then. */
interface Body {
  label: string;
  contentType?: string;
  contentEncoding?: string;
  bytes: () => Buffer | string;
}

interface Probe {
  method: string;
  route: string;
  who: Caller;
  /** "real" takes the route's own id; anything else is already encoded for the path. */
  pathValue: string;
  query: string;
  body?: Body;
  /** Conditional and range headers, sent to any route. */
  headers?: Record<string, string>;
}

const json = (label: string, text: () => string, contentType = "application/json"): Body => ({
  label,
  contentType,
  bytes: text,
});

const BOUNDARY = "fuzz-boundary";

/** A multipart form of `parts` (a part without `filename` is a text field, as a browser sends one). */
function multipart(parts: Array<{ name: string; filename?: string; bytes: Buffer | string }>, end = true): Buffer {
  return Buffer.concat([
    ...parts.flatMap((part) => [
      Buffer.from(
        `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${part.name}"` +
          (part.filename === undefined ? "" : `; filename="${part.filename}"\r\nContent-Type: image/png`) +
          "\r\n\r\n",
      ),
      Buffer.from(part.bytes),
      Buffer.from("\r\n"),
    ]),
    Buffer.from(end ? `--${BOUNDARY}--\r\n` : ""),
  ]);
}

/** An upload of `bytes` as the part `file`, or of the parts given. */
const upload = (label: string, bytes: () => Buffer): Body => ({
  label,
  contentType: `multipart/form-data; boundary=${BOUNDARY}`,
  bytes: () => multipart([{ name: "file", filename: "fuzz.png", bytes: bytes() }]),
});

/** Image uploads, sound and hostile, to whichever route gets them. */
const uploads: fc.Arbitrary<Body> = fc.oneof(
  fc.constant(upload("a PNG", () => blackPng(8, 8))),
  fc.constant(upload("HTML as a PNG", () => HOSTILE_HTML)),
  fc.constant(upload("a PNG signature over HTML", () => Buffer.concat([PNG_SIGNATURE, HOSTILE_HTML]))),
  fc.constant(upload("a decompression bomb", () => blackPng(20_000, 20_000))),
  fc.constant(upload("a truncated PNG", () => blackPng(64, 64).subarray(0, 40))),
  fc.constant(upload("an empty file", () => Buffer.alloc(0))),
  fc.constant(
    upload("an image past MEDIA_MAX_BYTES", () => Buffer.concat([PNG_SIGNATURE, Buffer.alloc(MEDIA_MAX_BYTES)])),
  ),
  fc.uint8Array({ maxLength: 256 }).map((bytes) => upload("random bytes as a file", () => Buffer.from(bytes))),
  fc.constant<Body>({
    label: "an upload under another name",
    contentType: `multipart/form-data; boundary=${BOUNDARY}`,
    bytes: () => multipart([{ name: "image", filename: "a.png", bytes: blackPng(8, 8) }]),
  }),
  fc.constant<Body>({
    label: "a file and a text field",
    contentType: `multipart/form-data; boundary=${BOUNDARY}`,
    bytes: () =>
      multipart([
        { name: "file", filename: "a.png", bytes: blackPng(8, 8) },
        { name: "caption", bytes: "x" },
      ]),
  }),
  fc.constant<Body>({
    label: "a multipart body cut short",
    contentType: `multipart/form-data; boundary=${BOUNDARY}`,
    bytes: () => multipart([{ name: "file", filename: "a.png", bytes: blackPng(8, 8) }], false),
  }),
  fc.constant<Body>({
    label: "a part's headers of 100 KB",
    contentType: `multipart/form-data; boundary=${BOUNDARY}`,
    bytes: () => multipart([{ name: "file", filename: "a".repeat(100_000), bytes: blackPng(8, 8) }]),
  }),
  fc.constant<Body>({
    label: "a multipart body under another boundary",
    contentType: "multipart/form-data; boundary=elsewhere",
    bytes: () => multipart([{ name: "file", filename: "a.png", bytes: blackPng(8, 8) }]),
  }),
);

/** Validators and ranges, sound and broken, for any route (the image's read answers them). */
const conditionalHeaders = fc.option(
  fc.constantFrom<Record<string, string>>(
    { range: "bytes=0-0" },
    { range: "bytes=-5" },
    { range: "bytes=5-2" },
    { range: "bytes=0-1,3-4" },
    { range: "bytes=99999999999999999999999-" },
    { range: "bytes=-" },
    { range: "pages=1-2" },
    { "if-none-match": "*" },
    { "if-none-match": '"x", W/"y", ' },
    { "if-range": "garbage", range: "bytes=0-3" },
  ),
  { nil: undefined },
);

/** Path segments, encoded as they would be sent (some deliberately malformed). */
const pathValue = fc.oneof(
  { weight: 4, arbitrary: fc.constant("real") },
  fc.uuid().map(String),
  fc.string({ maxLength: 40, unit: "grapheme" }).map(encodeURIComponent),
  fc.constantFrom(
    "00000000-0000-0000-0000-000000000000",
    "..",
    "%2e%2e",
    "%00",
    "a%2Fb",
    "%ZZ",
    "%E0%A4%A",
    "null",
    "__proto__",
    "constructor",
    "x".repeat(5_000),
    "%F0%9F%98%80",
  ),
);

const queryKey = fc.constantFrom(
  "skip",
  "limit",
  "q",
  "status",
  "category",
  "tag",
  "all",
  "user_id",
  "tree_id",
  "version",
  "format",
  "limit[]",
  "q[a]",
  "__proto__",
  "constructor",
  "a%00b",
);
const queryValue = fc.oneof(
  fc.string({ maxLength: 20, unit: "grapheme" }).map(encodeURIComponent),
  fc.integer().map(String),
  fc.constantFrom(
    "true",
    "-1",
    "1e9",
    "1e309",
    "99999999999999999999999",
    "-0",
    "NaN",
    "Infinity",
    "0x10",
    "%201",
    "%00",
    "%E0%A4%A",
    "json",
    "pdf",
    "printer",
    encodeURIComponent("a ".repeat(5_000)),
    encodeURIComponent(Array(17).fill("printer").join(" ")),
  ),
);
/** Repeated keys, arrays and objects in brackets, huge numbers, broken escapes. */
const query = fc
  .array(fc.tuple(queryKey, queryValue), { maxLength: 4 })
  .map((pairs) => pairs.map(([key, value]) => `${key}=${value}`).join("&"));

const plausibleFields = fc.record(
  {
    op: fc.constantFrom("answer", "continue", "back", "note", "jump"),
    node_id: fc.constantFrom("power", "paper", "x"),
    option_id: fc.string({ maxLength: 5 }),
    email: fc.string({ maxLength: 30 }),
    username: fc.string({ maxLength: 30 }),
    password: fc.string({ maxLength: 30 }),
    full_name: fc.string({ maxLength: 30, unit: "grapheme" }),
    refresh_token: fc.string({ maxLength: 30 }),
    preset: fc.constantFrom("custom", "strict", "weird"),
    idle_max_seconds: fc.integer(),
    version: fc.oneof(fc.integer(), fc.constant(1e308)),
    role: fc.string({ maxLength: 10 }),
    is_active: fc.boolean(),
    outcome: fc.string({ maxLength: 12 }),
    notes: fc.string({ maxLength: 40, unit: "grapheme" }),
    format: fc.constantFrom("json", "markdown", "csv", "pdf", "docx"),
    tree_id: fc.oneof(fc.uuid().map(String), fc.string({ maxLength: 10 })),
    nodes: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
    context: fc.jsonValue({ maxDepth: 2 }),
  },
  { requiredKeys: [] },
);

const HOSTILE_KEYS = ["__proto__", "constructor", "prototype", "a\u0000b", "\u0000", "", "toString", "$ref", "op"];
/** Objects whose keys are hostile, written as JSON text (an object literal would eat `__proto__`). */
const hostileObject = fc
  .array(fc.tuple(fc.constantFrom(...HOSTILE_KEYS), fc.jsonValue({ maxDepth: 2 })), { minLength: 1, maxLength: 4 })
  .map((pairs) => `{${pairs.map(([key, value]) => `${JSON.stringify(key)}:${JSON.stringify(value)}`).join(",")}}`);

function nested(kind: "arrays" | "objects", depth: number): string {
  return kind === "arrays"
    ? `${"[".repeat(depth)}${"]".repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

const FIELDS = ["title", "notes", "email", "password", "refresh_token", "q", "full_name", "tree_id", "context"];

function bodies(treeId: string): fc.Arbitrary<Body | undefined> {
  return fc.oneof(
    { weight: 2, arbitrary: fc.constant(undefined) },
    {
      weight: 6,
      arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => json("random JSON", () => JSON.stringify(value))),
    },
    {
      weight: 6,
      arbitrary: plausibleFields.map((value) => json("plausible fields", () => JSON.stringify(value))),
    },
    {
      weight: 3,
      arbitrary: fc
        .tuple(hostileObject, fc.constantFrom("top", "context", "nodes"))
        .map(([object, where]) =>
          json(`hostile keys in ${where}`, () =>
            where === "top"
              ? object
              : where === "context"
                ? `{"tree_id":"${treeId}","context":${object}}`
                : `{"title":"t","category":"c","root_node_id":"a","nodes":[${object}]}`,
          ),
        ),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(
          fc.constantFrom("arrays", "objects", "context") as fc.Arbitrary<string>,
          fc.constantFrom(31, 32, 33, 100, 20_000, 300_000),
        )
        .map(([kind, depth]) =>
          json(`${kind} nested ${depth} deep`, () =>
            kind === "context"
              ? `{"tree_id":"${treeId}","context":${nested("objects", depth)}}`
              : nested(kind as "arrays" | "objects", depth),
          ),
        ),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(...FIELDS), fc.constantFrom(10_000, BODY_LIMIT - 64, BODY_LIMIT + 1, 3 * 1024 * 1024))
        .map(([field, size]) =>
          json(`${field} of ${size} characters`, () => `{"${field}":"${"x".repeat(size)}","op":"note","notes":"n"}`),
        ),
    },
    {
      weight: 1,
      arbitrary: fc
        .constantFrom(10_000, 150_000)
        .map((count) =>
          json(
            `${count} keys`,
            () => `{${Array.from({ length: count }, (_, index) => `"k${index}":${index}`).join(",")}}`,
          ),
        ),
    },
    {
      weight: 4,
      arbitrary: fc.oneof(
        fc.constant<Body>({
          label: "UTF-16 JSON",
          contentType: "application/json; charset=utf-16",
          bytes: () => Buffer.from('{"op":"back"}', "utf16le"),
        }),
        fc.constant<Body>({
          label: "gzip JSON",
          contentType: "application/json",
          contentEncoding: "gzip",
          bytes: () => gzipSync('{"op":"back"}'),
        }),
        fc.constant<Body>({
          label: "deflate JSON",
          contentType: "application/json",
          contentEncoding: "deflate",
          bytes: () => deflateSync('{"op":"back"}'),
        }),
        fc.constant<Body>({
          label: "invalid UTF-8",
          contentType: "application/json",
          bytes: () => Buffer.from([0x7b, 0x22, 0x6f, 0x70, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0xff, 0x22, 0x7d]),
        }),
        fc.constant<Body>({
          label: "BOM then JSON",
          contentType: "application/json",
          bytes: () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"op":"back"}')]),
        }),
        fc.constant<Body>({ label: "empty JSON", contentType: "application/json", bytes: () => "" }),
        fc.constant<Body>({ label: "JSON null", contentType: "application/json", bytes: () => "null" }),
        fc.constant<Body>({ label: "plain text", contentType: "text/plain", bytes: () => "hello" }),
        fc.constant<Body>({
          label: "form",
          contentType: "application/x-www-form-urlencoded",
          bytes: () => "username=a%40b.co&password=x&grant_type=password&username=twice",
        }),
        fc.constant<Body>({
          label: "form with JSON",
          contentType: "application/x-www-form-urlencoded",
          bytes: () => '{"a":1}',
        }),
        fc.constant<Body>({
          label: "multipart without boundary",
          contentType: "multipart/form-data",
          bytes: () => "--x--",
        }),
        fc.constant<Body>({ label: "no content type", bytes: () => '{"op":"back"}' }),
        fc.constant<Body>({ label: "odd media type", contentType: "application/JSON;;;", bytes: () => "{}" }),
        fc.constant<Body>({
          label: "latin-1 JSON",
          contentType: "application/json; charset=latin1",
          bytes: () => '{"n":"é"}',
        }),
      ),
    },
    { weight: 3, arbitrary: uploads },
    {
      weight: 1,
      arbitrary: fc
        .uint8Array({ maxLength: 64 })
        .map((bytes) => ({ label: "random bytes", contentType: "application/json", bytes: () => Buffer.from(bytes) })),
    },
  );
}

function probes(treeId: string): fc.Arbitrary<Probe> {
  return fc
    .record({
      route: fc.constantFrom(...ROUTES),
      who: fc.constantFrom<Caller>(
        "anonymous",
        "technician",
        "engineer",
        "admin",
        "apiKey",
        "forged",
        "expired",
        "garbage",
      ),
      pathValue,
      query,
      body: bodies(treeId),
      headers: conditionalHeaders,
    })
    .map(({ route: [method, route], who, pathValue, query, body, headers }) => ({
      method,
      route,
      // Logging out as a real caller would end the session every later probe uses.
      who: route.endsWith("/logout") && REAL_CALLERS.includes(who) ? "forged" : who,
      pathValue,
      query,
      ...(body ? { body } : {}),
      ...(headers ? { headers } : {}),
    }));
}

interface Outcome {
  status: number;
  text: string;
}

/** The URL and headers a probe is sent with. */
function requestOf(probe: Probe) {
  const path = probe.route.replace(/\{(\w+)\}/g, (_match, name: keyof typeof ids) =>
    probe.pathValue === "real" ? ids[name] : probe.pathValue,
  );
  const headers: Record<string, string> = { ...probe.headers };
  const token = authorization[probe.who];
  if (token) headers.authorization = token;
  const hasBody = Boolean(probe.body) && probe.method !== "GET";
  if (hasBody && probe.body?.contentType) headers["content-type"] = probe.body.contentType;
  if (hasBody && probe.body?.contentEncoding) headers["content-encoding"] = probe.body.contentEncoding;
  return { url: `${running.system.url}${path}${probe.query ? `?${probe.query}` : ""}`, headers, hasBody };
}

async function send(probe: Probe): Promise<Outcome> {
  const { url, headers, hasBody } = requestOf(probe);
  const response = await fetch(url, {
    method: probe.method,
    headers,
    ...(hasBody ? { body: probe.body?.bytes() } : {}),
  });
  return { status: response.status, text: await response.text() };
}

/**
 * The probe's head alone, declaring its body's length, with `Expect: 100-continue`: what the
 * server answers before any body byte is sent. The body is never sent; the answer must be a
 * refusal with a {detail}, as the server gave while fetch was still writing.
 */
function sendHeadOnly(probe: Probe): Promise<Outcome> {
  const { url, headers } = requestOf(probe);
  const length = Buffer.byteLength(probe.body?.bytes() ?? "");
  return new Promise((settle) => {
    const request = httpRequest(url, {
      method: probe.method,
      headers: { ...headers, "content-length": String(length), expect: "100-continue" },
    });
    request.on("response", (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        settle({ status: response.statusCode ?? 599, text: Buffer.concat(chunks).toString("utf8") });
        request.destroy();
      });
    });
    request.on("error", (error) => settle({ status: 599, text: String(error) }));
    request.flushHeaders();
  });
}

/** Why an answer breaks the rules, if it does. */
function faultOf(outcome: Outcome): string | undefined {
  if (outcome.status >= 500) return `status ${outcome.status}`;
  if (outcome.status < 400) return undefined;
  try {
    const body = JSON.parse(outcome.text) as { detail?: unknown };
    const detail = body?.detail;
    return typeof detail === "string" || Array.isArray(detail) ? undefined : "error without detail";
  } catch {
    return "error body is not JSON";
  }
}

describe("anything a client can send", () => {
  it(`never answers 5xx in ${REQUESTS} random requests, every error is {detail}, and every service lives on`, async () => {
    const seed = Date.now() % 2 ** 31;
    const all = fc.sample(probes(ids.tree), { numRuns: REQUESTS, seed });
    const statuses = new Map<number, number>();
    const faults: string[] = [];
    let next = 0;
    let earlyRefusals = 0;
    const worker = async () => {
      while (next < all.length) {
        const probe = all[next++] as Probe;
        const outcome = await send(probe).catch(async (error: unknown) => {
          // A server that refuses a request by its head (431, 413) closes the connection while a
          // large body is still being written, and fetch reports only that. The same head, sent
          // alone, must then be refused the same way, with a {detail}.
          if (!probe.body) return { status: 599, text: String(error) };
          earlyRefusals++;
          const again = await sendHeadOnly(probe);
          return again.status >= 400 ? again : { status: 599, text: `${String(error)}; then ${again.status}` };
        });
        statuses.set(outcome.status, (statuses.get(outcome.status) ?? 0) + 1);
        const fault = faultOf(outcome);
        if (fault && faults.length < 20) {
          faults.push(
            `${fault}: ${probe.method} ${probe.route} [${probe.pathValue.slice(0, 40)}] ?${probe.query.slice(0, 80)} ` +
              `as ${probe.who}, body ${probe.body?.label ?? "none"} → ${outcome.text.slice(0, 200)}`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    const sent = [...statuses.values()].reduce((sum, count) => sum + count, 0);
    expect(sent).toBe(REQUESTS);
    const summary = `seed ${seed}; statuses ${JSON.stringify(Object.fromEntries(statuses))}; early refusals ${earlyRefusals}`;
    console.info(summary);
    expect(faults, summary).toEqual([]);
    // The run reached the services, not only the gateway's own refusals.
    expect(statuses.get(200) ?? 0).toBeGreaterThan(REQUESTS / 50);
    expect(statuses.get(422) ?? 0).toBeGreaterThan(REQUESTS / 50);

    const processes = [...running.system.stack.processes.entries()];
    expect(processes.map(([name, child]) => [name, child.exitCode, child.signalCode])).toEqual(
      processes.map(([name]) => [name, null, null]),
    );
    const ready = await fetch(`${running.system.url}/ready`);
    expect(ready.status).toBe(200);
    const internal = running.system.logs.filter(
      ({ line }) => line.msg === "rpc failed" || line.msg === "unhandled error",
    );
    expect(internal.map(({ service, line }) => `${service}: ${JSON.stringify(line).slice(0, 300)}`)).toEqual([]);
  }, 180_000);
});
