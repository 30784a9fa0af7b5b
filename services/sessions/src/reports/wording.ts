/**
 * The words of a report in the session's language (docs/decisions/logic-forms-media-languages.md):
 * English, and German; any other locale reports in English. The tree's texts come translated from
 * the tree itself; these are the report's own.
 */

export interface Wording {
  report: string;
  session: string;
  tree: string;
  technician: string;
  started: string;
  completed: string;
  outcome: string;
  context: string;
  variables: string;
  steps: string;
  notes: string;
  step: string;
  answer: string;
  note: string;
  time: string;
  notYet: string;
  notSet: string;
  inProgress: string;
  abandoned: string;
  done: string;
  unanswered: string;
  noRuleHeld: string;
  version: (version: number) => string;
  ruleHeld: (rule: string) => string;
  reached: (outcome: string) => string;
  outcomes: Record<string, string>;
}

const ENGLISH: Wording = {
  report: "Troubleshooting report",
  session: "Session",
  tree: "Tree",
  technician: "Technician",
  started: "Started",
  completed: "Completed",
  outcome: "Outcome",
  context: "Context",
  variables: "Variables",
  steps: "Steps",
  notes: "Notes",
  step: "Step",
  answer: "Answer",
  note: "Note",
  time: "Time",
  notYet: "not yet",
  notSet: "not set",
  inProgress: "in progress",
  abandoned: "abandoned",
  done: "done",
  unanswered: "unanswered",
  noRuleHeld: "no rule held: default",
  version: (version) => `version ${version}`,
  ruleHeld: (rule) => `rule ${rule} held`,
  reached: (outcome) => `reached: ${outcome}`,
  outcomes: {},
};

const GERMAN: Wording = {
  report: "Fehlersuchbericht",
  session: "Sitzung",
  tree: "Baum",
  technician: "Techniker",
  started: "Begonnen",
  completed: "Abgeschlossen",
  outcome: "Ergebnis",
  context: "Kontext",
  variables: "Variablen",
  steps: "Schritte",
  notes: "Notizen",
  step: "Schritt",
  answer: "Antwort",
  note: "Notiz",
  time: "Zeit",
  notYet: "noch nicht",
  notSet: "nicht gesetzt",
  inProgress: "läuft",
  abandoned: "abgebrochen",
  done: "erledigt",
  unanswered: "unbeantwortet",
  noRuleHeld: "keine Regel traf zu: Standard",
  version: (version) => `Version ${version}`,
  ruleHeld: (rule) => `Regel ${rule} traf zu`,
  reached: (outcome) => `erreicht: ${outcome}`,
  outcomes: { resolved: "gelöst", unresolved: "ungelöst", escalated: "eskaliert" },
};

/** The report's words for a session in `locale` (by its language: `de-AT` reports in German). */
export function wordingFor(locale: string | undefined): Wording {
  return (locale ?? "").split("-")[0] === "de" ? GERMAN : ENGLISH;
}

/** An outcome in the report's words (English keeps the contract's spelling). */
export const outcomeWord = (wording: Wording, outcome: string) => wording.outcomes[outcome] ?? outcome;
