/** What "New draft tree" starts from: the smallest tree that validates, to be edited into a real one. */
import type { TreeInput } from "./api.js";

export function newDraft(): TreeInput {
  return {
    title: `New tree ${new Date().toISOString().slice(0, 16).replace("T", " ")}`,
    description: "What this tree troubleshoots.",
    category: "General",
    tags: [],
    status: "draft",
    root_node_id: "start",
    change_note: "First draft",
    nodes: [
      {
        id: "start",
        type: "question",
        title: "Does the problem still happen?",
        body: "",
        options: [
          { id: "yes", label: "Yes", next: "escalate" },
          { id: "no", label: "No", next: "fixed" },
        ],
      },
      { id: "escalate", type: "solution", title: "Escalate to second-level support", body: "", outcome: "escalated" },
      { id: "fixed", type: "solution", title: "Solved", body: "", outcome: "resolved" },
    ],
  };
}
