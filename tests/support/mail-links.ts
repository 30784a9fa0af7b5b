/**
 * Following mailed links as their reader does, for identity tests: wait for the mail, read the
 * token of the link to a page, and load that page (under PUBLIC_URL, the gateway) as the
 * browser would. Every token read is added to `secrets`, to be looked for in the logs later.
 */
import { type Mailbox, type ReceivedMail, tokenOf } from "./mailbox.js";

export function mailLinks(mailbox: Mailbox, secrets: Set<string>) {
  /** The link of `mail` to `page`, loaded; its token. */
  async function follow(mail: ReceivedMail, page: string): Promise<string> {
    const token = tokenOf(mail, page);
    secrets.add(token);
    const link = mail.links.find((candidate) => new URL(candidate).pathname === `/${page}`) ?? "";
    await (await fetch(link)).arrayBuffer();
    return token;
  }

  /** The first mail to `address` since `since` whose subject matches, and the token of its link to `page`. */
  async function tokenFrom(address: string, options: { since: number; subject: RegExp; page: string }) {
    const mail = await mailbox.waitFor(address, { since: options.since, subject: options.subject });
    return { mail, token: await follow(mail, options.page) };
  }

  return { follow, tokenFrom };
}
