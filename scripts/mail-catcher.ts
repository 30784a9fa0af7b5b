/**
 * Where mail lands under `npm start` without SMTP_URL (issue 23): a local SMTP server on
 * 127.0.0.1 that keeps each message as an `.eml` file in a folder (any mail program opens one)
 * and tells the terminal, in one line per message, to whom, the subject and the first link, so
 * a newcomer can click the verification link. It delivers nothing anywhere.
 */
import { mkdirSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { simpleParser } from "mailparser";
import { SMTPServer } from "smtp-server";
import type { Started } from "./infrastructure.js";
import { freePort } from "./ports.js";

/** What the catcher keeps of one message. */
export interface CaughtMail {
  file: string;
  to: string[];
  subject: string;
  /** The first http(s) link of the text (else of the HTML), if any. */
  link: string | undefined;
}

export interface MailCatcher extends Started {
  /** smtp://127.0.0.1:<port>, for SMTP_URL. */
  url: string;
  folder: string;
}

/** The largest message kept: far above any mail TDT sends. */
const MAX_BYTES = 10 * 1024 * 1024;

export async function startMailCatcher(options: {
  folder: string;
  /** Called once each message is kept. */
  onMail: (mail: CaughtMail) => void;
  /** Ports the services are configured with but may not have bound yet: never taken here. */
  avoid?: readonly number[];
}): Promise<MailCatcher> {
  // Readable by the owner alone: a message can hold a link that signs someone in.
  mkdirSync(options.folder, { recursive: true, mode: 0o700 });
  let count = 0;
  const server = new SMTPServer({
    // Plain SMTP on loopback: no TLS to offer (a client would refuse a self-signed certificate)
    // and no account to log in to.
    disabledCommands: ["STARTTLS", "AUTH"],
    authOptional: true,
    size: MAX_BYTES,
    logger: false,
    closeTimeout: 1000,
    onData(stream, session, done) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.once("error", done);
      stream.once("end", () => {
        if (stream.sizeExceeded) return done(Object.assign(new Error("message too large"), { responseCode: 552 }));
        count += 1;
        const recipients = session.envelope.rcptTo.map((recipient) => recipient.address);
        keep(Buffer.concat(chunks), join(options.folder, fileName(count)), recipients).then((mail) => {
          options.onMail(mail);
          done();
        }, done);
      });
    },
  });
  const port = await freePort(options.avoid);
  await new Promise<void>((listening, failed) => {
    server.once("error", failed);
    server.listen(port, "127.0.0.1", () => listening());
  });
  return {
    url: `smtp://127.0.0.1:${port}`,
    folder: options.folder,
    stop: () => new Promise<void>((closed) => server.close(() => closed())),
  };
}

/** Writes the message as received, then reads what the terminal line needs from it. */
async function keep(raw: Buffer, file: string, recipients: string[]): Promise<CaughtMail> {
  await writeFile(file, raw, { mode: 0o600 });
  const parsed = await simpleParser(raw);
  const to = recipients.length > 0 ? recipients : [addressesText(parsed.to)].filter(Boolean);
  return {
    file,
    to,
    subject: parsed.subject ?? "",
    link: firstLink(parsed.text ?? "") ?? firstLink(parsed.html || ""),
  };
}

/** Sortable by arrival: the time, then a counter for messages within one millisecond. */
function fileName(count: number): string {
  return `${new Date().toISOString().replace(/:/g, "-")}-${String(count).padStart(4, "0")}.eml`;
}

function addressesText(to: { text: string } | Array<{ text: string }> | undefined): string {
  if (to === undefined) return "";
  return Array.isArray(to) ? to.map((item) => item.text).join(", ") : to.text;
}

/** The first http(s) URL in `text`, without the punctuation that closes a sentence or a tag. */
export function firstLink(text: string): string | undefined {
  const found = /https?:\/\/[^\s<>"'`]+/.exec(text)?.[0];
  return found?.replace(/[.,;:!?)\]}>]+$/, "").replace(/&amp;/g, "&");
}

/** The terminal's line for one message. */
export function mailLine(mail: CaughtMail): string {
  const subject = mail.subject ? JSON.stringify(mail.subject) : "(no subject)";
  return `to ${mail.to.join(", ") || "(no recipient)"}: ${subject} ${mail.link ?? "(no link)"}`;
}
