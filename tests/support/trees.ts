/** Tree documents for tests: a small realistic one and large generated ones. */

export interface TreeBody {
  title: string;
  description?: string;
  category: string;
  tags?: string[];
  status?: "draft" | "published";
  root_node_id: string;
  change_note?: string;
  nodes: Array<Record<string, unknown>>;
}

/** The SPEC's printer example, completed into a valid tree. */
export function printerTree(overrides: Partial<TreeBody> = {}): TreeBody {
  return {
    title: "Printer does not print",
    description: "Office laser printers that accept jobs but print nothing.",
    category: "Printers",
    tags: ["laser", "office"],
    status: "published",
    root_node_id: "power",
    change_note: "First version",
    nodes: [
      {
        id: "power",
        type: "question",
        title: "Is the power light on?",
        body: "Look at the **front panel**.",
        options: [
          { id: "yes", label: "Yes", next: "paper" },
          { id: "no", label: "No", next: "plug" },
        ],
      },
      { id: "plug", type: "action", title: "Plug the printer in and switch it on", body: "", next: "power2" },
      {
        id: "power2",
        type: "question",
        title: "Is the power light on now?",
        body: "",
        options: [
          { id: "yes", label: "Yes", next: "paper" },
          { id: "no", label: "No", next: "escalate" },
        ],
      },
      {
        id: "paper",
        type: "question",
        title: "Is there paper in the tray?",
        body: "",
        options: [
          { id: "yes", label: "Yes", next: "done" },
          { id: "no", label: "No", next: "refill" },
        ],
      },
      { id: "refill", type: "action", title: "Refill the paper tray", body: "", next: "refilled" },
      { id: "refilled", type: "solution", title: "Paper refilled, printing resumed", body: "", outcome: "resolved" },
      { id: "done", type: "solution", title: "Replace the toner cartridge", body: "", outcome: "resolved" },
      { id: "escalate", type: "solution", title: "Send the printer for repair", body: "", outcome: "escalated" },
    ],
    ...overrides,
  };
}

/** A chain of `count` nodes: actions, then one solution at the end. */
export function chainTree(count: number, overrides: Partial<TreeBody> = {}): TreeBody {
  const nodes = Array.from({ length: count }, (_, i) =>
    i === count - 1
      ? { id: `n${i}`, type: "solution", title: `Step ${i}`, body: "Done.", outcome: "resolved" }
      : { id: `n${i}`, type: "action", title: `Step ${i}`, body: `Do thing number ${i}.`, next: `n${i + 1}` },
  );
  return { title: `Chain of ${count}`, category: "Generated", root_node_id: "n0", nodes, ...overrides };
}
