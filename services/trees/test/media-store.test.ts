/**
 * The media store on a real Postgres, as the service's own role: identical images of one
 * organization are one row whoever puts them and however many at once, and the wall keeps each
 * organization's images its own.
 */
import { createHash, randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { inOrganization, migrate, OUTBOX_MIGRATIONS } from "@tdt/kit";
import { connect, createDatabase, dropDatabase } from "@tdt/test-support/database";
import { testLogger } from "@tdt/test-support/silent-logger";
import postgres, { type Sql } from "postgres";
import sharp from "sharp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SanitisedImage, sanitiseImage } from "../src/media/sanitise.js";
import { PostgresMediaStore } from "../src/media/store.js";

const A = randomUUID();
const B = randomUUID();
const author = randomUUID();
let database: { name: string; url: string };
/** The owner, which migrates and sees every organization's rows. */
let owner: Sql;
/** trees_app, as the service runs: the wall binds it. */
let app: Sql;
let store: PostgresMediaStore;

beforeAll(async () => {
  database = await createDatabase("trees_media");
  owner = connect(database.url);
  await migrate(owner, fileURLToPath(new URL("../migrations", import.meta.url)), testLogger(), OUTBOX_MIGRATIONS);
  const url = new URL(database.url);
  url.username = "trees_app"; // trust authentication here
  app = postgres(url.toString(), { max: 10, onnotice: () => {} });
  store = new PostgresMediaStore(app);
});

afterAll(async () => {
  await app?.end();
  await owner?.end();
  if (database) await dropDatabase(database.name);
});

/** A small image of its own colour, sanitised as an upload would be. */
async function image(background: string): Promise<SanitisedImage> {
  const png = await sharp({ create: { width: 24, height: 16, channels: 3, background } })
    .png()
    .toBuffer();
  const outcome = await sanitiseImage(png, { maxBytes: 1024 * 1024 });
  if (outcome.kind !== "sanitised") throw new Error(`refused: ${outcome.code}`);
  return outcome.image;
}

/** The rows of an image in every organization, as the owner sees them. */
const rowsOf = (sha256: string) =>
  owner<{ org_id: string; id: string }[]>`select org_id, id from media where sha256 = ${sha256}`;

describe("the media store", () => {
  it("stores identical bytes once: the second put is the first's id", async () => {
    const red = await image("#cc3333");
    const first = await store.put(A, red, author);
    const second = await store.put(A, red, randomUUID());
    expect(first.created).toBe(true);
    expect(second).toEqual({ id: first.id, created: false });
    expect(await rowsOf(red.sha256)).toEqual([{ org_id: A, id: first.id }]);
    expect(await store.has(A, red.sha256)).toBe(true);
  });

  it("stores identical bytes once when eight puts race", async () => {
    const green = await image("#33cc33");
    const puts = await Promise.all(Array.from({ length: 8 }, () => store.put(A, green, author)));
    expect(new Set(puts.map((put) => put.id)).size).toBe(1);
    expect(puts.filter((put) => put.created)).toHaveLength(1);
    expect(await rowsOf(green.sha256)).toHaveLength(1);
  });

  it("gives back the bytes it was given, identical by SHA-256, with what was said of them", async () => {
    const blue = await image("#3333cc");
    const { id } = await store.put(A, blue, author);
    const stored = await store.get(A, id);
    expect(stored).toMatchObject({
      id,
      sha256: blue.sha256,
      contentType: "image/png",
      width: 24,
      height: 16,
      createdBy: author,
    });
    expect(
      createHash("sha256")
        .update(stored?.bytes ?? "")
        .digest("hex"),
    ).toBe(blue.sha256);
    expect(stored?.bytes.equals(blue.bytes)).toBe(true);
    expect(stored?.createdAt).toBeInstanceOf(Date);
  });

  it("knows no id that is not one, nor an image it does not hold", async () => {
    expect(await store.get(A, "not-a-uuid")).toBeUndefined();
    expect(await store.get(A, randomUUID())).toBeUndefined();
    expect(await store.has(A, "0".repeat(64))).toBe(false);
  });
});

describe("the wall around each organization's images", () => {
  it("shows another organization neither the id nor the hash", async () => {
    const grey = await image("#777777");
    const { id } = await store.put(A, grey, author);
    expect(await store.get(B, id)).toBeUndefined();
    expect(await store.has(B, grey.sha256)).toBe(false);
    expect(await store.get(A, id)).toBeDefined();
  });

  it("keeps the same image of two organizations as two rows, each behind its own wall", async () => {
    const teal = await image("#33aaaa");
    const ofA = await store.put(A, teal, author);
    const ofB = await store.put(B, teal, author);
    expect(ofB.created).toBe(true);
    expect(ofB.id).not.toBe(ofA.id);
    expect((await rowsOf(teal.sha256)).map((row) => row.org_id).sort()).toEqual([A, B].sort());
    expect((await store.get(B, ofB.id))?.bytes.equals(teal.bytes)).toBe(true);
    expect(await store.get(B, ofA.id)).toBeUndefined();
  });

  it("shows the service's role no image outside an organization's transaction, and refuses a write into another", async () => {
    await store.put(A, await image("#aa33aa"), author);
    const [outside] = await app<{ n: number }[]>`select count(*)::int as n from media`;
    expect(outside?.n).toBe(0);
    const [total] = await owner<{ n: number }[]>`select count(*)::int as n from media`;
    expect(total?.n).toBeGreaterThan(0);

    const orange = await image("#ee8800");
    await expect(
      inOrganization(
        app,
        B,
        (tx) => tx`
          insert into media (org_id, sha256, content_type, width, height, bytes, byte_length, created_by)
          values (${A}, ${orange.sha256}, ${orange.contentType}, ${orange.width}, ${orange.height}, ${orange.bytes},
            ${orange.bytes.length}, ${author})`,
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it("never rewrites an image under its id: the service's role may not update one", async () => {
    const violet = await image("#8833ee");
    const { id } = await store.put(A, violet, author);
    await expect(
      inOrganization(app, A, (tx) => tx`update media set bytes = ${Buffer.from("<html>")} where id = ${id}`),
    ).rejects.toMatchObject({ code: "42501" });
    expect((await store.get(A, id))?.bytes.equals(violet.bytes)).toBe(true);
  });
});
