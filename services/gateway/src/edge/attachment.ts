/** A download named `filename` (or `fallback`), kept to characters every header and file system take. */
export function attachment(filename: string, fallback: string): string {
  return `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]+/g, "_") || fallback}"`;
}
