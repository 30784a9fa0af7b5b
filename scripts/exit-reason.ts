/**
 * Why a service stopped, in one line, from its own output: its `configuration error: …` line,
 * its fatal log entry (message and error), or the first line of an uncaught error.
 */
export function reasonIn(line: string): string | undefined {
  if (line.startsWith("configuration error: ")) return line;
  if (line.startsWith("{")) return fatalEntry(line);
  // An uncaught error prints "Error: listen EADDRINUSE…" or "TypeError [CODE]: …" before its stack.
  if (/^[A-Za-z]*Error( \[[A-Z_]+\])?: /.test(line)) return line;
  return undefined;
}

function fatalEntry(line: string): string | undefined {
  let entry: { level?: unknown; msg?: unknown; err?: { message?: unknown } };
  try {
    entry = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (entry.level !== "fatal") return undefined;
  const message = typeof entry.err?.message === "string" ? entry.err.message : undefined;
  return [entry.msg, message].filter((part) => typeof part === "string" && part !== "").join(": ") || "fatal error";
}
