/**
 * Issue 23: the first admin of `npm start` has no known password. It is ADMIN_PASSWORD when
 * given, else one made once per data folder and kept there, readable by its owner alone.
 */
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { firstAdmin } from "../../scripts/first-admin.js";

let folder: string;

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), "tdt-first-admin-"));
});

afterEach(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe("the first admin of npm start", () => {
  it("gets a new random password, kept in the data folder with mode 0600 and shown that once", async () => {
    const data = join(folder, "data");
    const first = firstAdmin({}, data);
    const file = join(data, "admin-password");
    const password = first.env.ADMIN_PASSWORD;
    expect(first.env.ADMIN_EMAIL).toBe("admin@example.com");
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(password).not.toBe("admin-password");
    expect((await readFile(file, "utf8")).trim()).toBe(password);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(first.summary).toContain(`admin@example.com / ${password}`);
    expect(first.summary).toContain("shown only this once");
    expect(first.summary).toContain(file);

    // A later start: the same password, and only where it is kept.
    const later = firstAdmin({}, data);
    expect(later.env.ADMIN_PASSWORD).toBe(password);
    expect(later.summary).toBe(`admin@example.com (password kept in ${file})`);
    expect(later.summary).not.toContain(password);
  });

  it("differs between data folders", () => {
    const one = firstAdmin({}, join(folder, "one")).env.ADMIN_PASSWORD;
    const other = firstAdmin({}, join(folder, "other")).env.ADMIN_PASSWORD;
    expect(one).not.toBe(other);
  });

  it("uses ADMIN_PASSWORD and ADMIN_EMAIL when given, and keeps no file", async () => {
    const given = firstAdmin({ ADMIN_EMAIL: "boss@tdt.example", ADMIN_PASSWORD: "chosen-password" }, folder);
    expect(given.env).toEqual({ ADMIN_EMAIL: "boss@tdt.example", ADMIN_PASSWORD: "chosen-password" });
    expect(given.summary).toBe("boss@tdt.example (password from ADMIN_PASSWORD)");
    await expect(stat(join(folder, "admin-password"))).rejects.toThrow(/ENOENT/);
  });

  it("refuses a kept file that holds no usable password, saying how to recover", async () => {
    await writeFile(join(folder, "admin-password"), "\n");
    expect(() => firstAdmin({}, folder)).toThrow(/admin-password must hold a password of 8-128 characters/);
    expect(() => firstAdmin({}, folder)).toThrow(/delete it to make a new one, or set ADMIN_PASSWORD/);
  });
});
