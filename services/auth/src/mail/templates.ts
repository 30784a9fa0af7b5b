import type { MailMessage } from "./mail-outbox.js";

/**
 * The mails auth sends: each a short plain-text body that reads well in any client, and the same
 * words as simple HTML (no images, no styles a client might drop). Links are absolute, under
 * PUBLIC_URL, and carry their token in the query.
 */

const escapeHtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

/** A mail of paragraphs and at most one link, in both forms. */
function compose(
  to: string,
  subject: string,
  parts: { before: string[]; link?: { label: string; url: string }; after: string[] },
): MailMessage {
  const text = [
    ...parts.before,
    ...(parts.link ? [`${parts.link.label}:\n${parts.link.url}`] : []),
    ...parts.after,
    "— TDT",
  ].join("\n\n");
  const paragraphs = [...parts.before.map((p) => `<p>${escapeHtml(p)}</p>`)];
  if (parts.link) {
    const href = escapeHtml(parts.link.url);
    paragraphs.push(`<p><a href="${href}">${escapeHtml(parts.link.label)}</a></p>`);
    paragraphs.push(`<p>If the link does not open, copy this address into your browser:<br>${href}</p>`);
  }
  paragraphs.push(...parts.after.map((p) => `<p>${escapeHtml(p)}</p>`), "<p>— TDT</p>");
  const html = `<!doctype html><html><body>${paragraphs.join("\n")}</body></html>`;
  return { to, subject, text, html };
}

const hours = (seconds: number) =>
  seconds >= 3600 ? `${Math.round(seconds / 3600)} hours` : `${Math.round(seconds / 60)} minutes`;

export const mails = {
  verifyEmail: (to: string, url: string, ttlSeconds: number) =>
    compose(to, "Confirm your email address for TDT", {
      before: ["Someone (we hope you) created a TDT account with this address."],
      link: { label: "Confirm your address", url },
      after: [`The link works once, for ${hours(ttlSeconds)}. If you did not sign up, ignore this mail.`],
    }),

  alreadyRegistered: (to: string, resetUrl: string) =>
    compose(to, "You already have a TDT account", {
      before: [
        "Someone (we hope you) tried to create a TDT account with this address, which already has one. No new account was made.",
        "If it was you, sign in with your password. If you forgot it, or never set one, ask for a reset:",
      ],
      link: { label: "Reset your password", url: resetUrl },
      after: ["If it was not you, ignore this mail: nothing changed."],
    }),

  resetPassword: (to: string, url: string, ttlSeconds: number) =>
    compose(to, "Reset your TDT password", {
      before: ["Someone (we hope you) asked to reset the password of the TDT account with this address."],
      link: { label: "Choose a new password", url },
      after: [
        `The link works once, for ${hours(ttlSeconds)}. Using it signs you out everywhere.`,
        "If you did not ask, ignore this mail: your password stays as it is.",
      ],
    }),

  invite: (to: string, url: string, role: string, ttlSeconds: number) =>
    compose(to, "You are invited to TDT", {
      before: [`An administrator invited you to TDT as ${role}.`],
      link: { label: "Accept the invitation and choose a password", url },
      after: [`The link works once, for ${hours(ttlSeconds)}.`],
    }),

  changeEmail: (to: string, url: string, ttlSeconds: number) =>
    compose(to, "Confirm your new email address for TDT", {
      before: ["Someone (we hope you) asked to move a TDT account to this address."],
      link: { label: "Confirm the new address", url },
      after: [`The link works once, for ${hours(ttlSeconds)}. Until then the account keeps its old address.`],
    }),

  changeEmailTaken: (to: string) =>
    compose(to, "Your address is already in use at TDT", {
      before: [
        "Someone asked to move another TDT account to this address, which already has an account. Nothing changed.",
      ],
      after: ["If it was you, sign in to the account this address already has."],
    }),
};
