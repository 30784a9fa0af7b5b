/**
 * A real SMTP server for tests (the `smtp-server` package), set up as the local mail catchers
 * developers run (Mailpit, MailHog): plain SMTP on loopback, no STARTTLS, no AUTH. Every message
 * is parsed with `mailparser` and kept; a test waits for the mail to an address and follows the
 * links in it as a person would.
 */
import { type ParsedMail, simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";

export interface ReceivedMail {
  to: string[];
  from: string;
  subject: string;
  text: string;
  html: string;
  /** Every http(s) link in the plain-text body, in order. */
  links: string[];
  receivedAt: number;
}

export interface Mailbox {
  /** `smtp://127.0.0.1:<port>`, for SMTP_URL. */
  url: string;
  messages: ReceivedMail[];
  /** The first mail to `address` (case-insensitive) received after `since` (ms epoch, default 0). */
  waitFor(address: string, options?: { since?: number; timeoutMs?: number; subject?: RegExp }): Promise<ReceivedMail>;
  /** The mails to `address` so far. */
  to(address: string): ReceivedMail[];
  close(): Promise<void>;
}

const addressesOf = (field: ParsedMail["to"]): string[] => {
  const list = Array.isArray(field) ? field : field ? [field] : [];
  return list.flatMap((group) => group.value.map((entry) => (entry.address ?? "").toLowerCase()));
};

/** The token in a mailed link to a page (`/verify-email?token=…`), as the page would read it. */
export function tokenOf(mail: ReceivedMail, page: string): string {
  const link = mail.links.find((candidate) => new URL(candidate).pathname === `/${page}`);
  const token = link ? new URL(link).searchParams.get("token") : null;
  if (!token) throw new Error(`no /${page} link in the mail "${mail.subject}": ${mail.links.join(", ")}`);
  return token;
}

export async function startMailbox(): Promise<Mailbox> {
  const messages: ReceivedMail[] = [];
  const waiters = new Set<() => void>();
  const server = new SMTPServer({
    disabledCommands: ["STARTTLS", "AUTH"],
    authOptional: true,
    logger: false,
    onData(stream, _session, callback) {
      simpleParser(stream)
        .then((parsed) => {
          const text = parsed.text ?? "";
          messages.push({
            to: addressesOf(parsed.to),
            from: parsed.from?.text ?? "",
            subject: parsed.subject ?? "",
            text,
            html: typeof parsed.html === "string" ? parsed.html : "",
            links: text.match(/https?:\/\/[^\s<>"]+/g) ?? [],
            receivedAt: Date.now(),
          });
          for (const wake of waiters) wake();
          callback();
        })
        .catch((error: Error) => callback(error));
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.server.address();
  const port = typeof address === "object" && address ? address.port : 0;

  const find = (to: string, since: number, subject?: RegExp) =>
    messages.find(
      (mail) =>
        mail.receivedAt >= since && mail.to.includes(to.toLowerCase()) && (!subject || subject.test(mail.subject)),
    );

  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    to: (to) => messages.filter((mail) => mail.to.includes(to.toLowerCase())),
    async waitFor(to, { since = 0, timeoutMs = 15_000, subject } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const mail = find(to, since, subject);
        if (mail) return mail;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no mail to ${to} within ${timeoutMs} ms (${messages.length} received in all)`);
        await new Promise<void>((resolve) => {
          const wake = () => {
            waiters.delete(wake);
            clearTimeout(timer);
            resolve();
          };
          const timer = setTimeout(wake, Math.min(left, 250));
          waiters.add(wake);
        });
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
