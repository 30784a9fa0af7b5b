/**
 * One spelling per email address, for every comparison and every key made from one: Unicode NFC
 * (a composed "é" and "e" + combining accent are one address), no surrounding spaces, lower case.
 */
export function normalizeEmail(raw: string): string {
  return raw.normalize("NFC").trim().toLowerCase();
}
