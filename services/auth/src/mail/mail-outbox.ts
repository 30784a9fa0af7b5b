import type { Logger, Sql, TransactionSql } from "@tdt/kit";
import { detachedFromCall, meter } from "@tdt/kit";
import nodemailer from "nodemailer";

/** One mail, as written: plain text for every client, HTML for those that show it. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  html: string;
}

/**
 * Writes the mail into the outbox in the caller's transaction: it is sent if and only if the
 * change that decided to send it commits. The relay delivers it (MailRelay).
 */
export async function queueMail(tx: TransactionSql | Sql, message: MailMessage): Promise<void> {
  await tx`
    insert into mail_outbox (to_address, subject, text_body, html_body)
    values (${message.to}, ${message.subject}, ${message.text}, ${message.html})`;
}

/** How long a mail that failed waits before its next try: doubling from 2 s, at most 10 minutes. */
export const retryDelaySeconds = (attempts: number): number => Math.min(2 ** attempts, 600);

interface DueMail {
  id: string;
  to_address: string;
  subject: string;
  text_body: string;
  html_body: string;
  attempts: number;
}

/** Something that sends one mail: nodemailer's SMTP transport in the service. */
export interface MailTransport {
  sendMail(mail: { from: string; to: string; subject: string; text: string; html: string }): Promise<unknown>;
  close?(): void;
}

/** The SMTP transport of `SMTP_URL` (`smtp://host:port`, `smtps://…`, credentials in the URL). */
export function smtpTransport(smtpUrl: string): MailTransport {
  return nodemailer.createTransport(smtpUrl);
}

/**
 * Delivers the outbox to the SMTP server. Several auth replicas share the table: each claims
 * due rows with `for update skip locked`, so a mail goes out once; a failure is retried later
 * with a growing delay, and a server that is down delays mail without losing any. A sent
 * mail's bodies (which hold the link's token) are cleared.
 */
export class MailRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private readonly sent = meter().createCounter("tdt.auth.mail", { description: "Mails handed to SMTP, by outcome" });

  constructor(
    private readonly sql: Sql,
    private readonly transport: MailTransport | undefined,
    private readonly from: string,
    private readonly log: Logger,
    private readonly intervalMs = 1000,
  ) {}

  start(): void {
    if (!this.transport) {
      this.log.warn("SMTP_URL is not set: mail waits in the outbox until auth starts with it");
      return;
    }
    this.timer = setInterval(() => this.nudge(), this.intervalMs);
    this.timer.unref();
    this.nudge();
  }

  /** Delivers what is due now (after a mail was queued, say); a run already going runs once more. */
  nudge(): void {
    if (!this.transport) return;
    if (this.running) {
      this.again = true;
      return;
    }
    // A queued mail's call only wakes the relay: its deadline is not the relay's.
    this.running = detachedFromCall(() => this.deliverDue())
      .catch((err: unknown) => this.log.warn({ err }, "mail relay: the outbox could not be read"))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.nudge();
        }
      });
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    this.transport?.close?.();
  }

  private async deliverDue(): Promise<void> {
    const transport = this.transport;
    if (!transport) return;
    await this.sql.begin(async (tx) => {
      const due = await tx<DueMail[]>`
        select id, to_address, subject, text_body, html_body, attempts from mail_outbox
        where sent_at is null and next_attempt_at <= now()
        order by next_attempt_at limit 20
        for update skip locked`;
      for (const mail of due) {
        try {
          await transport.sendMail({
            from: this.from,
            to: mail.to_address,
            subject: mail.subject,
            text: mail.text_body,
            html: mail.html_body,
          });
          await tx`update mail_outbox set sent_at = now(), text_body = '', html_body = '' where id = ${mail.id}`;
          this.sent.add(1, { outcome: "sent" });
        } catch (error) {
          const attempts = mail.attempts + 1;
          const message = error instanceof Error ? error.message : String(error);
          await tx`
            update mail_outbox set attempts = ${attempts}, last_error = ${message.slice(0, 500)},
              next_attempt_at = now() + make_interval(secs => ${retryDelaySeconds(attempts)})
            where id = ${mail.id}`;
          this.sent.add(1, { outcome: "failed" });
          // The address is not logged: it is personal data, and the row id finds it.
          this.log.warn({ mail_id: mail.id, attempts, err: message }, "mail not delivered: retried later");
        }
      }
    });
  }
}
