/**
 * Issue 23, "Identity is proven, never asserted": an address is proven by a mail only its owner
 * reads, over a real SMTP server (tests/support/mailbox.ts). Under REGISTRATION=verify (the
 * default): pre-hijacking, verification, answers that tell nothing about which addresses have
 * accounts, password reset, change of address, and the mails themselves; then the invite and
 * closed modes, each on a system of its own. Each test says what the code before the issue did.
 */
import { randomUUID } from "node:crypto";
import { claimsOf, type TokenPair } from "@tdt/test-support/api";
import { type EventLog, recordAuthEvents } from "@tdt/test-support/events";
import { CLIENT_SECRET, type SystemWithProviders, startSystemWithProviders } from "@tdt/test-support/identity-system";
import { secretsInLogs, serverErrorsInLogs } from "@tdt/test-support/log-secrets";
import { mailLinks } from "@tdt/test-support/mail-links";
import type { Mailbox } from "@tdt/test-support/mailbox";
import { type SsoJourney, ssoJourney } from "@tdt/test-support/sso-journey";
import { queryDatabase } from "@tdt/test-support/system";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const TRIALS = 5;
const RACERS = 10;
const RUN = randomUUID().slice(0, 8);

interface Me {
  id: string;
  email: string;
  role: string;
  email_verified: boolean;
  linked_providers: unknown[];
}

/** What every test of one system uses: its client, its mailbox, and the secrets it saw. */
function harness(system: SystemWithProviders, secrets: Set<string>) {
  const { client } = system.running;
  const mailbox = system.running.system.mailbox as Mailbox;
  const mail = mailLinks(mailbox, secrets);
  const call = client.call;
  const keepPair = (pair: TokenPair) => {
    secrets.add(pair.access_token);
    secrets.add(pair.refresh_token);
  };
  const loginJson = async (email: string, password: string) => {
    const answer = await call<TokenPair & { detail?: string }>("POST", "/api/v1/auth/login/json", {
      json: { email, password },
    });
    if (answer.status === 200) keepPair(answer.body);
    return answer;
  };
  const login = async (email: string, password: string) => {
    const answer = await loginJson(email, password);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    return answer.body;
  };
  return {
    mailbox,
    mail,
    call,
    loginJson,
    login,
    me: (token: string) => call<Me & { detail?: string }>("GET", "/api/v1/auth/me", { token }),
    register: (email: string, password = "registered-password-1") =>
      call<{ detail: string }>("POST", "/api/v1/auth/register", { json: { email, password, full_name: "Someone" } }),
    authDb: <T>(query: Parameters<typeof queryDatabase<T>>[1]) =>
      queryDatabase(system.running.system.databases.auth.url, query),
  };
}

/** After the system stopped: no secret in its whole log, and no 500. */
function expectCleanLogs(logs: SystemWithProviders["running"]["system"]["logs"], secrets: Set<string>) {
  expect(secretsInLogs(logs, secrets)).toEqual([]);
  expect(serverErrorsInLogs(logs)).toEqual([]);
}

describe("REGISTRATION=verify", () => {
  let system: SystemWithProviders;
  let journey: SsoJourney;
  let events: EventLog;
  let h: ReturnType<typeof harness>;

  beforeAll(async () => {
    system = await startSystemWithProviders([{ id: "dev" }, { id: "corp", allowed_domains: ["corp.example"] }], {
      REGISTRATION: "verify",
    });
    journey = ssoJourney(system.gateway);
    journey.keep(CLIENT_SECRET);
    h = harness(system, journey.secrets);
    events = await recordAuthEvents(system.running.nats.as("gateway"));
  }, 120_000);

  afterAll(async () => {
    await events?.close();
    const logs = system ? system.running.system.logs : [];
    await system?.stop();
    if (journey) expectCleanLogs(logs, journey.secrets);
  });

  /** A registered account whose address is verified by its mail. */
  async function verifiedAccount(label: string, password = "verified-password-1") {
    const email = `${label}-${RUN}@corp.example`;
    const since = Date.now();
    expect((await h.register(email, password)).status).toBe(202);
    const { token } = await h.mail.tokenFrom(email, { since, subject: /confirm/i, page: "verify-email" });
    expect((await h.call("POST", "/api/v1/auth/verify-email", { json: { token } })).status).toBe(204);
    return { email, password };
  }

  it("pre-hijacking: the attacker's registration cannot sign in, blocks no one's single sign-on into it, and a reset gives the address to its owner", async () => {
    // Before issue 23, registering any address gave a working account at once, and the owner's
    // first sign-in with a provider was linked to it: the attacker and the victim shared the account.
    const victim = `victim-${RUN}@corp.example`;
    const since = Date.now();
    expect((await h.register(victim, "attacker-password-1")).body).toEqual({ detail: "verification_sent" });
    expect(await h.loginJson(victim, "attacker-password-1")).toMatchObject({
      status: 403,
      body: { detail: "email_not_verified" },
    });
    // The confirmation goes to the victim, not to the attacker.
    await h.mailbox.waitFor(victim, { since, subject: /confirm/i });
    for (const provider of ["dev", "corp"]) {
      expect((await journey.attempt(victim, provider)).params, provider).toEqual({
        error: "account_exists_link_required",
      });
    }
    const [account] = await h.authDb(
      (sql) => sql<{ id: string; links: number }[]>`
        select u.id, (select count(*)::int from oidc_identities i where i.user_id = u.id) as links
        from users u where lower(email) = ${victim}`,
    );
    expect(account?.links).toBe(0);

    const resetSince = Date.now();
    await h.call("POST", "/api/v1/auth/password/forgot", { json: { email: victim } });
    const { token } = await h.mail.tokenFrom(victim, { since: resetSince, subject: /reset/i, page: "reset-password" });
    expect(
      (await h.call("POST", "/api/v1/auth/password/reset", { json: { token, password: "victims-own-1" } })).status,
    ).toBe(204);
    expect((await h.loginJson(victim, "attacker-password-1")).status).toBe(401);
    const own = await h.login(victim, "victims-own-1");
    expect((await h.me(own.access_token)).body).toMatchObject({ id: account?.id, email_verified: true });
    // Proven now, and corp owns its domain: corp signs the victim in to it.
    expect(claimsOf((await journey.signIn(victim, "corp")).tokens.access_token).sub).toBe(account?.id);
  });

  it("verifies an address by its mailed link: login is 403 before, the link works once, and an old or expired link is refused", async () => {
    // Before issue 23 registration answered 201 and the account signed in at once, whoever's address it named.
    const email = `vera-${RUN}@corp.example`;
    let since = Date.now();
    expect(await h.register(email, "vera-password-1")).toMatchObject({
      status: 202,
      body: { detail: "verification_sent" },
    });
    expect(await h.loginJson(email, "vera-password-1")).toMatchObject({
      status: 403,
      body: { detail: "email_not_verified" },
    });
    const first = await h.mail.tokenFrom(email, { since, subject: /confirm/i, page: "verify-email" });
    const verify = (token: string) => h.call("POST", "/api/v1/auth/verify-email", { json: { token } });
    expect((await verify(first.token)).status).toBe(204);
    const tokens = await h.login(email, "vera-password-1");
    expect((await h.me(tokens.access_token)).body).toMatchObject({ email, email_verified: true });
    expect(await verify(first.token)).toMatchObject({ status: 400, body: { detail: "invalid_mail_token" } });

    // A new link supersedes the last; an expired one does nothing.
    const late = `late-${RUN}@corp.example`;
    since = Date.now();
    await h.register(late, "late-password-1");
    const superseded = await h.mail.tokenFrom(late, { since, subject: /confirm/i, page: "verify-email" });
    since = Date.now();
    const resend = () => h.call("POST", "/api/v1/auth/verify-email/resend", { json: { email: late } });
    expect(await resend()).toMatchObject({ status: 202, body: { detail: "verification_sent" } });
    const expiring = await h.mail.tokenFrom(late, { since, subject: /confirm/i, page: "verify-email" });
    expect(await verify(superseded.token)).toMatchObject({ status: 400, body: { detail: "invalid_mail_token" } });
    await h.authDb(
      (sql) => sql`update mail_tokens set expires_at = now() - interval '1 second'
                   where email = ${late} and purpose = 'verify_email' and used_at is null`,
    );
    expect(await verify(expiring.token)).toMatchObject({ status: 400, body: { detail: "invalid_mail_token" } });
    expect((await h.loginJson(late, "late-password-1")).status).toBe(403);
    since = Date.now();
    await resend();
    const fresh = await h.mail.tokenFrom(late, { since, subject: /confirm/i, page: "verify-email" });
    expect((await verify(fresh.token)).status).toBe(204);
    await h.login(late, "late-password-1");
  });

  it("answers registration alike for a new and a taken address; the owner of the taken one is told by mail, and nothing changes", async () => {
    // Before issue 23 a taken address was 409 email_already_registered and a new one 201: anyone
    // could list who has an account.
    const owner = await verifiedAccount("owner");
    const fresh = `fresh-${RUN}@corp.example`;
    const since = Date.now();
    const taken = await h.register(owner.email.toUpperCase(), "intruder-password-1");
    const created = await h.register(fresh, "fresh-password-1");
    expect({ status: taken.status, body: taken.body }).toEqual({ status: created.status, body: created.body });
    expect(taken).toMatchObject({ status: 202, body: { detail: "verification_sent" } });
    const told = await h.mailbox.waitFor(owner.email, { since, subject: /already have/i });
    expect(told.links.map((link) => new URL(link).pathname)).toEqual(["/forgot-password"]);
    await h.mailbox.waitFor(fresh, { since, subject: /confirm/i });
    const accounts = await h.authDb(
      (sql) => sql`select count(*)::int as n from users where lower(email) = ${owner.email}`,
    );
    expect(accounts).toEqual([{ n: 1 }]);
    await h.login(owner.email, owner.password);
    expect((await h.loginJson(owner.email, "intruder-password-1")).status).toBe(401);
  });

  it("answers a forgotten password alike for any address, and mails only an existing one", async () => {
    // Before issue 23 there was no reset by mail (404): a lost password was an admin's job.
    const known = await verifiedAccount("forgetful");
    const unknown = `nobody-${RUN}@corp.example`;
    const since = Date.now();
    const forgot = (email: string) => h.call("POST", "/api/v1/auth/password/forgot", { json: { email } });
    // The unknown address first: a mail to it would be queued, and delivered, before the known one's.
    const forUnknown = await forgot(unknown);
    const forKnown = await forgot(known.email);
    expect({ status: forUnknown.status, body: forUnknown.body }).toEqual({
      status: forKnown.status,
      body: forKnown.body,
    });
    expect(forKnown).toMatchObject({ status: 202, body: { detail: "reset_sent" } });
    await h.mail.tokenFrom(known.email, { since, subject: /reset/i, page: "reset-password" });
    expect(h.mailbox.to(unknown)).toEqual([]);
  });

  it("takes a reset link once: of racing uses exactly one sets its password, and only the newest link works", async () => {
    // Before issue 23 there were no reset links to race.
    const account = await verifiedAccount("racer");
    const tally: Record<string, number> = {};
    for (let trial = 0; trial < TRIALS; trial++) {
      const since = Date.now();
      await h.call("POST", "/api/v1/auth/password/forgot", { json: { email: account.email } });
      const { token } = await h.mail.tokenFrom(account.email, { since, subject: /reset/i, page: "reset-password" });
      const passwords = Array.from({ length: RACERS }, (_, racer) => `race-${trial}-${racer}-password`);
      const answers = await Promise.all(
        passwords.map((password) => h.call("POST", "/api/v1/auth/password/reset", { json: { token, password } })),
      );
      for (const answer of answers) {
        const key = `${answer.status} ${(answer.body as { detail?: string } | undefined)?.detail ?? ""}`.trim();
        tally[key] = (tally[key] ?? 0) + 1;
      }
      const winner = passwords[answers.findIndex((answer) => answer.status === 204)] ?? "";
      await h.login(account.email, winner);
      const loser = passwords.find((password) => password !== winner) ?? "";
      expect((await h.loginJson(account.email, loser)).status).toBe(401);
    }
    expect(tally).toEqual({ "204": TRIALS, "400 invalid_mail_token": TRIALS * (RACERS - 1) });

    let since = Date.now();
    await h.call("POST", "/api/v1/auth/password/forgot", { json: { email: account.email } });
    const older = await h.mail.tokenFrom(account.email, { since, subject: /reset/i, page: "reset-password" });
    since = Date.now();
    await h.call("POST", "/api/v1/auth/password/forgot", { json: { email: account.email } });
    const newer = await h.mail.tokenFrom(account.email, { since, subject: /reset/i, page: "reset-password" });
    const reset = (token: string) =>
      h.call("POST", "/api/v1/auth/password/reset", { json: { token, password: "the-newest-password" } });
    expect(await reset(older.token)).toMatchObject({ status: 400, body: { detail: "invalid_mail_token" } });
    expect((await reset(newer.token)).status).toBe(204);
  });

  it("changes an address only when the new one is proven by its link, and then ends every login session", async () => {
    // Before issue 23 there was no change of address by mail: an address was whatever was typed
    // at registration, proven by nothing.
    const account = await verifiedAccount("mover");
    const sessions = [await h.login(account.email, account.password), await h.login(account.email, account.password)];
    const token = sessions[0]?.access_token ?? "";
    const change = (email: string, current_password = account.password) =>
      h.call("POST", "/api/v1/auth/me/email", { token, json: { email, current_password } });
    expect(await change(`any-${RUN}@corp.example`, "not-the-password")).toMatchObject({
      status: 403,
      body: { detail: "wrong_password" },
    });

    // An address with an account: the same answer, its owner told, nothing changed.
    const other = await verifiedAccount("occupant");
    let since = Date.now();
    expect(await change(other.email)).toMatchObject({ status: 202, body: { detail: "verification_sent" } });
    expect((await h.mailbox.waitFor(other.email, { since, subject: /already in use/i })).links).toEqual([]);

    const moved = `moved-${RUN}@corp.example`;
    since = Date.now();
    expect(await change(moved)).toMatchObject({ status: 202, body: { detail: "verification_sent" } });
    const link = await h.mail.tokenFrom(moved, { since, subject: /new email/i, page: "verify-email" });
    // Until the link is followed the account keeps its address.
    expect((await h.me(token)).body).toMatchObject({ email: account.email });
    expect((await h.loginJson(moved, account.password)).status).toBe(401);

    expect((await h.call("POST", "/api/v1/auth/verify-email", { json: { token: link.token } })).status).toBe(204);
    const sids = sessions.map((pair) => String(claimsOf(pair.access_token).sid));
    for (const pair of sessions) {
      await expect.poll(async () => (await h.me(pair.access_token)).status, { timeout: 1000, interval: 50 }).toBe(401);
    }
    const revocations = (arrived: typeof events.events) =>
      arrived.filter(
        (item) => item.subject === "auth.session.revoked" && "sid" in item.event && sids.includes(item.event.sid),
      );
    await events.until((arrived) => revocations(arrived).length >= sids.length, "both sessions' revocations");
    expect(revocations(events.events).map((item) => ("reason" in item.event ? item.event.reason : ""))).toEqual([
      "email_changed",
      "email_changed",
    ]);
    const after = await h.login(moved, account.password);
    expect((await h.me(after.access_token)).body).toMatchObject({ email: moved, email_verified: true });
    expect((await h.loginJson(account.email, account.password)).status).toBe(401);
    expect((await h.call("POST", "/api/v1/auth/verify-email", { json: { token: link.token } })).body).toEqual({
      detail: "invalid_mail_token",
    });
  });

  it("moves one account, never two, to an address two accounts asked for when both links are followed at once", async () => {
    // Before issue 23 there was no change of address by mail. Now the second link to follow must be
    // 409 email_already_registered (the address has an account), never a 500.
    const movers = [await verifiedAccount("twin-a"), await verifiedAccount("twin-b")];
    const tally: Record<string, number> = {};
    for (let trial = 0; trial < TRIALS; trial++) {
      const target = `shared-${trial}-${RUN}@corp.example`;
      const tokens: string[] = [];
      for (const [index, account] of movers.entries()) {
        const since = Date.now();
        const asked = await h.call("POST", "/api/v1/auth/me/email", {
          token: (await h.login(account.email, account.password)).access_token,
          json: { email: target, current_password: account.password },
        });
        expect(asked.status, `mover ${index}`).toBe(202);
        tokens.push((await h.mail.tokenFrom(target, { since, subject: /new email/i, page: "verify-email" })).token);
      }
      const answers = await Promise.all(
        tokens.map((token) => h.call<{ detail?: string }>("POST", "/api/v1/auth/verify-email", { json: { token } })),
      );
      const outcome = answers.map((answer) => `${answer.status} ${answer.body?.detail ?? ""}`.trim()).sort();
      tally[outcome.join(" + ")] = (tally[outcome.join(" + ")] ?? 0) + 1;
      // Back to their own addresses for the next trial: the one that moved asks again.
      for (const [index, account] of movers.entries()) {
        if (answers[index]?.status !== 204) continue;
        const since = Date.now();
        const back = await h.call("POST", "/api/v1/auth/me/email", {
          token: (await h.login(target, account.password)).access_token,
          json: { email: account.email, current_password: account.password },
        });
        expect(back.status).toBe(202);
        const { token } = await h.mail.tokenFrom(account.email, { since, subject: /new email/i, page: "verify-email" });
        expect((await h.call("POST", "/api/v1/auth/verify-email", { json: { token } })).status).toBe(204);
      }
      const holders = await h.authDb((sql) => sql`select count(*)::int as n from users where lower(email) = ${target}`);
      expect(holders).toEqual([{ n: 0 }]);
    }
    // On failure, what auth logged of the requests that failed.
    const failures = system.running.system.logs
      .filter(({ service, line }) => service === "auth" && line.level === "error")
      .map(({ line }) => JSON.stringify(line.err ?? line.msg));
    expect(tally, failures.slice(0, 2).join("\n")).toEqual({ "204 + 409 email_already_registered": TRIALS });
  });

  it("writes every mail as plain text and HTML, each with the same links", async () => {
    const mails = h.mailbox.messages;
    const subjects = new Set(mails.map((mail) => mail.subject));
    expect([...subjects].sort()).toEqual([
      "Confirm your email address for TDT",
      "Confirm your new email address for TDT",
      "Reset your TDT password",
      "You already have a TDT account",
      "Your address is already in use at TDT",
    ]);
    for (const mail of mails) {
      expect(mail.text.length, mail.subject).toBeGreaterThan(0);
      expect(mail.html, mail.subject).toMatch(/^<!doctype html>/i);
      const hrefs = [...mail.html.matchAll(/href="([^"]+)"/g)].map((match) =>
        (match[1] ?? "").replaceAll("&amp;", "&"),
      );
      expect(hrefs, mail.subject).toEqual(mail.links);
      for (const link of mail.links) expect(new URL(link).origin, mail.subject).toBe(system.gateway);
    }
  });

  it("writes no mailed token, code, state, binding or token pair to any log line, the pages of mailed links included", async () => {
    // Before issue 23 a page's query was logged as sent: `/verify-email?token=…` handed the link to the logs.
    const logs = system.running.system.logs;
    expect(journey.secrets.size).toBeGreaterThan(40);
    expect(secretsInLogs(logs, journey.secrets)).toEqual([]);
    const urls = logs.filter(({ service }) => service === "gateway").map(({ line }) => String(line.url ?? ""));
    expect(urls).toContain("/verify-email?token=[redacted]");
    expect(urls).toContain("/reset-password?token=[redacted]");
    expect(urls).toContain("/?code=[redacted]");
  });
});

/** An invite-only system (`invite`) or one that makes no account by registration (`closed`). */
describe.each(["invite", "closed"] as const)("REGISTRATION=%s", (mode) => {
  let system: SystemWithProviders;
  let journey: SsoJourney;
  let h: ReturnType<typeof harness>;

  beforeAll(async () => {
    system = await startSystemWithProviders([{ id: "dev" }], { REGISTRATION: mode });
    journey = ssoJourney(system.gateway);
    journey.keep(CLIENT_SECRET);
    journey.keep(system.running.admin);
    h = harness(system, journey.secrets);
  }, 120_000);

  afterAll(async () => {
    const logs = system ? system.running.system.logs : [];
    await system?.stop();
    if (journey) expectCleanLogs(logs, journey.secrets);
  });

  const invite = (email: string, role: string, token = system.running.admin) =>
    h.call("POST", "/api/v1/auth/invites", { token, json: { email, role } });
  const accept = (token: string, password = "invited-password-1") =>
    h.call<{ email: string; role: string; detail?: string }>("POST", "/api/v1/auth/invites/accept", {
      json: { token, password, full_name: "Grace Hopper" },
    });

  it("refuses registration with 403 registration_closed, for any address", async () => {
    // Before issue 23 anyone could register: there were no modes.
    for (const email of [`new-${mode}-${RUN}@example.com`, "admin@example.com"]) {
      expect(await h.register(email)).toMatchObject({ status: 403, body: { detail: "registration_closed" } });
    }
    // Nothing was mailed for it.
    expect(h.mailbox.to(`new-${mode}-${RUN}@example.com`)).toEqual([]);
  });

  it("makes an account by an admin's invitation: mailed, accepted once, with the invited role and its address proven", async () => {
    // Before issue 23 there were no invitations: an admin promoted whoever had registered the address.
    const grace = `grace-${mode}-${RUN}@example.com`;
    let since = Date.now();
    const invited = await invite(grace.toUpperCase(), "engineer");
    expect(invited.status, JSON.stringify(invited.body)).toBe(201);
    expect(invited.body).toMatchObject({ email: grace, role: "engineer", expires_at: expect.any(String) });
    const superseded = await h.mail.tokenFrom(grace, { since, subject: /invited/i, page: "accept-invite" });
    // Invited again: only the newest link works.
    since = Date.now();
    expect((await invite(grace, "engineer")).status).toBe(201);
    const { mail, token } = await h.mail.tokenFrom(grace, { since, subject: /invited/i, page: "accept-invite" });
    expect(mail.text).toContain("engineer");
    expect(mail.html).toContain(`href="${mail.links[0]}"`);
    expect(await accept(superseded.token)).toMatchObject({ status: 400, body: { detail: "invalid_mail_token" } });

    const accepted = await accept(token);
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(201);
    expect(accepted.body).toMatchObject({ email: grace, role: "engineer" });
    const pair = await h.login(grace, "invited-password-1");
    expect((await h.me(pair.access_token)).body).toMatchObject({
      email: grace,
      role: "engineer",
      email_verified: true,
    });
    expect(await accept(token, "another-password-1")).toMatchObject({
      status: 400,
      body: { detail: "invalid_mail_token" },
    });
    await h.login(grace, "invited-password-1");

    // An address with an account is not invited again; only an admin invites.
    expect(await invite(grace, "technician")).toMatchObject({
      status: 409,
      body: { detail: "email_already_registered" },
    });
    expect((await invite(`someone-${mode}-${RUN}@example.com`, "admin", pair.access_token)).status).toBe(403);
    expect((await invite(`someone-${mode}-${RUN}@example.com`, "admin", "")).status).toBe(401);
  });

  it("makes no account by a provider's first sign-in either", async () => {
    // docs/accounts-and-mail.md: under `invite` only an admin's invitation makes an account, under
    // `closed` nothing does. Before issue 23 there were no modes, and a provider open to any domain
    // (`dev` here) made an account for whoever signed in there; it still does under both modes.
    const stranger = `stranger-${mode}-${RUN}@example.com`;
    const { params } = await journey.attempt(stranger, "dev");
    expect(params.code).toBeUndefined();
    expect(params.error).toEqual(expect.any(String));
    const accounts = await h.authDb(
      (sql) => sql`select count(*)::int as n from users where lower(email) = ${stranger}`,
    );
    expect(accounts).toEqual([{ n: 0 }]);
  });
});
