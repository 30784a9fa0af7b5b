/**
 * Issue 23: where mail lands under `npm start` without SMTP_URL. The catcher is a real SMTP
 * server on loopback; nodemailer (what auth sends with) delivers to it over TCP.
 */
import { mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import nodemailer from "nodemailer";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type CaughtMail,
  firstLink,
  type MailCatcher,
  mailLine,
  startMailCatcher,
} from "../../scripts/mail-catcher.js";

let folder: string;
let catcher: MailCatcher | undefined;
let caught: CaughtMail[];

beforeEach(async () => {
  folder = await mkdtemp(join(tmpdir(), "tdt-mail-"));
  caught = [];
  catcher = await startMailCatcher({ folder: join(folder, "mail"), onMail: (mail) => caught.push(mail) });
});

afterEach(async () => {
  await catcher?.stop();
  await rm(folder, { recursive: true, force: true });
});

const send = (mail: { to: string; subject: string; text?: string; html?: string }) =>
  nodemailer.createTransport(catcher?.url ?? "").sendMail({ from: "TDT <no-reply@tdt.localhost>", ...mail });

describe("the mail catcher", () => {
  it("listens on loopback and keeps a sent message as an .eml file, telling to whom, the subject and the first link", async () => {
    expect(catcher?.url).toMatch(/^smtp:\/\/127\.0\.0\.1:\d+$/);
    const link = "http://localhost:8000/verify-email?token=abc.DEF-123_x&next=%2F";
    await send({
      to: "newcomer@example.com",
      subject: "Confirm your email address",
      text: `Welcome to TDT.\n\nConfirm your address: ${link}.\n\nOr ignore it: https://tdt.example/help`,
      html: `<p>Confirm: <a href="${link.replace(/&/g, "&amp;")}">confirm</a></p>`,
    });
    expect(caught).toHaveLength(1);
    const [mail] = caught as [CaughtMail];
    expect(mail).toMatchObject({ to: ["newcomer@example.com"], subject: "Confirm your email address", link });
    expect(mailLine(mail)).toBe(`to newcomer@example.com: "Confirm your email address" ${link}`);

    const files = await readdir(join(folder, "mail"));
    expect(files).toEqual([expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}Z-0001\.eml$/)]);
    expect(mail.file).toBe(join(folder, "mail", files[0] as string));
    expect((await stat(join(folder, "mail"))).mode & 0o777).toBe(0o700);
    expect((await stat(mail.file)).mode & 0o777).toBe(0o600);
    const eml = await readFile(mail.file, "utf8");
    expect(eml).toMatch(/^Subject: Confirm your email address\r?$/m);
    expect(eml).toMatch(/^To: newcomer@example\.com\r?$/m);
    expect(eml).toMatch(/^From: TDT <no-reply@tdt\.localhost>\r?$/m);
    expect(eml).toContain("verify-email?token=");
  });

  it("keeps each message in a file of its own, in order, and names every recipient", async () => {
    await send({ to: "a@example.com, b@example.com", subject: "First", text: "no link here" });
    await send({ to: "c@example.com", subject: "Second", html: '<a href="https://tdt.example/x?y=1&amp;z=2">x</a>' });
    expect(caught.map(mailLine)).toEqual([
      'to a@example.com, b@example.com: "First" (no link)',
      'to c@example.com: "Second" https://tdt.example/x?y=1&z=2',
    ]);
    const files = (await readdir(join(folder, "mail"))).sort();
    expect(files).toHaveLength(2);
    expect(files.map((name) => name.slice(-9))).toEqual(["-0001.eml", "-0002.eml"]);
    expect(await readFile(join(folder, "mail", files[1] as string), "utf8")).toContain("Subject: Second");
  });
});

describe("the first link", () => {
  it("leaves out what closes a sentence or a tag", () => {
    expect(firstLink("see (https://a.example/b).")).toBe("https://a.example/b");
    expect(firstLink("<https://a.example/c>, then")).toBe("https://a.example/c");
    expect(firstLink('href="http://a.example/d?e=1&amp;f=2"')).toBe("http://a.example/d?e=1&f=2");
    expect(firstLink("nothing to click")).toBeUndefined();
  });
});
