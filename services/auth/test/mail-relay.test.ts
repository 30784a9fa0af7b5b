/**
 * The mail outbox and its relay against real Postgres and a real SMTP server: a mail queued in a
 * transaction that rolls back is never sent; a server that is down delays mail and loses none;
 * two relays (two auth replicas) send each mail once; a sent mail's bodies (the link's token)
 * are cleared.
 */

import { type Mailbox, startMailbox } from "@tdt/test-support/mailbox";
import { freePort } from "@tdt/test-support/ports";
import { testLogger } from "@tdt/test-support/silent-logger";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MailRelay, queueMail, retryDelaySeconds, smtpTransport } from "../src/mail/mail-outbox.js";
import { mails } from "../src/mail/templates.js";
import { useAuthDatabase } from "./support/auth-database.js";

const database = useAuthDatabase("mail_relay");
let mailbox: Mailbox;

beforeAll(async () => {
  mailbox = await startMailbox();
});
afterAll(async () => {
  await mailbox?.close();
});

const relayTo = (url: string) =>
  new MailRelay(database.sql, smtpTransport(url), "TDT <tdt@example.com>", testLogger(), 100);

describe("the mail relay", () => {
  it("sends what committed, once, with text and HTML, and clears the bodies; a rolled-back mail never leaves", async () => {
    const to = `ada-${Date.now()}@example.com`;
    const link = "http://localhost:8000/verify-email?token=secret-token-1";
    await database.sql.begin((tx) => queueMail(tx, mails.verifyEmail(to, link, 86400)));
    await database.sql
      .begin(async (tx) => {
        await queueMail(tx, mails.resetPassword(to, "http://localhost:8000/reset-password?token=never", 1800));
        throw new Error("the change failed");
      })
      .catch(() => undefined);
    // Two replicas' relays at once.
    const relays = [relayTo(mailbox.url), relayTo(mailbox.url)];
    for (const relay of relays) relay.start();
    const mail = await mailbox.waitFor(to);
    await new Promise((resolve) => setTimeout(resolve, 500));
    await Promise.all(relays.map((relay) => relay.stop()));
    expect(mailbox.to(to)).toHaveLength(1);
    expect(mail.subject).toMatch(/confirm/i);
    expect(mail.links).toEqual([link]);
    expect(mail.html).toContain(`href="${link}"`);
    const [row] = await database.sql`select sent_at, text_body, html_body from mail_outbox where to_address = ${to}`;
    expect(row?.sent_at).toBeInstanceOf(Date);
    expect([row?.text_body, row?.html_body]).toEqual(["", ""]);
  });

  it("keeps mail while the SMTP server is down, and delivers it once it is up, every one", async () => {
    const port = await freePort();
    const stamp = Date.now();
    const to = (index: number) => `bob-${index}-${stamp}@example.com`;
    const count = 5;
    for (let index = 0; index < count; index++) {
      await queueMail(database.sql, mails.changeEmailTaken(to(index)));
    }
    const down = relayTo(`smtp://127.0.0.1:${port}`);
    down.start();
    await expect
      .poll(
        async () =>
          (await database.sql`select count(*)::int as n from mail_outbox where attempts > 0 and sent_at is null`)[0]?.n,
        { timeout: 5000 },
      )
      .toBe(count);
    await down.stop();
    // The server comes back (here: the relay is pointed at one that runs) once the retry is due.
    await database.sql`update mail_outbox set next_attempt_at = now() where sent_at is null`;
    const up = relayTo(mailbox.url);
    up.start();
    for (let index = 0; index < count; index++) await mailbox.waitFor(to(index));
    await up.stop();
    const [left] = await database.sql`select count(*)::int as n from mail_outbox where sent_at is null`;
    expect(left?.n).toBe(0);
  });

  it("waits longer after each failure, at most ten minutes", () => {
    expect([1, 2, 3, 9, 10, 30].map(retryDelaySeconds)).toEqual([2, 4, 8, 512, 600, 600]);
  });
});
