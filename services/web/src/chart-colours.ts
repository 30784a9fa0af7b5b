/** Colours of the outcomes and counts; the tests find a bar by its colour. */
export const COLOURS = {
  started: "#5d6776",
  completed: "#1f5fbf",
  resolved: "#2f8f46",
  escalated: "#d9a400",
  unresolved: "#b3261e",
  abandoned: "#9aa3b0",
} as const;
