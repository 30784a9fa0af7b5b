import type { Session } from "@tdt/proto/tdt/sessions/v1/sessions";

/** Wording shared by every report format, so they tell the same story. */

export function formatDuration(ms: number): string {
  if (ms <= 0) return "";
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${seconds % 60} s`;
}

export function outcomeText(session: Session): string {
  return session.outcome ?? (session.status === "abandoned" ? "abandoned" : "in progress");
}

/** The context object as [key, value] pairs (nested values as JSON). */
export function contextEntries(session: Session): Array<[key: string, value: string]> {
  return Object.entries(session.context ?? {}).map(([key, value]) => [
    key,
    typeof value === "string" ? value : JSON.stringify(value),
  ]);
}

/** The context object as "key: value" lines. */
export function contextLines(session: Session): string[] {
  return contextEntries(session).map(([key, value]) => `${key}: ${value}`);
}

export function answerText(step: Session["steps"][number]): string {
  if (step.option_label) return step.option_label;
  return step.left_at ? "done" : "";
}
