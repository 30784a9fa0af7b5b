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

/** A node as an author writes it (the contract's NodeInput): a body may be left out. */
export type AuthoredNode =
  | {
      id: string;
      type: "question";
      title: string;
      body?: string;
      options: { id: string; label: string; next: string }[];
    }
  | { id: string; type: "action"; title: string; body?: string; next: string }
  | { id: string; type: "solution"; title: string; body?: string; outcome: "resolved" | "escalated" };

/** A tree as an author writes it: what the service defaults (description, change note) left out. */
export interface AuthoredTree {
  title: string;
  category: string;
  tags: string[];
  status: "draft" | "published";
  root_node_id: string;
  nodes: AuthoredNode[];
}

/**
 * The SPEC's printer example, completed into a valid tree, as an author writes it: the one
 * definition of the tests' printer tree. tests/client/every-route.ts sends it as it is, so these
 * bytes are in the golden corpus (tests/golden/corpus.jsonl): change them and the wire changes.
 */
export function authoredPrinterTree(): AuthoredTree {
  return {
    title: "Printer does not print",
    category: "Printers",
    tags: ["laser", "office"],
    status: "published",
    root_node_id: "power",
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
      { id: "plug", type: "action", title: "Plug the printer in and switch it on", next: "power2" },
      {
        id: "power2",
        type: "question",
        title: "Is the power light on now?",
        options: [
          { id: "yes", label: "Yes", next: "paper" },
          { id: "no", label: "No", next: "repair" },
        ],
      },
      {
        id: "paper",
        type: "question",
        title: "Is there paper in the tray?",
        options: [
          { id: "yes", label: "Yes", next: "toner" },
          { id: "no", label: "No", next: "refill" },
        ],
      },
      { id: "refill", type: "action", title: "Refill the paper tray", next: "refilled" },
      { id: "refilled", type: "solution", title: "Paper refilled, printing resumed", outcome: "resolved" },
      { id: "toner", type: "solution", title: "Replace the toner cartridge", outcome: "resolved" },
      { id: "repair", type: "solution", title: "Send the printer for repair", outcome: "escalated" },
    ],
  };
}

/** The printer tree with every field written out (a description, a change note, each node's body). */
export function printerTree(overrides: Partial<TreeBody> = {}): TreeBody {
  const { title, category, tags, status, root_node_id, nodes } = authoredPrinterTree();
  return {
    title,
    description: "Office laser printers that accept jobs but print nothing.",
    category,
    tags,
    status,
    root_node_id,
    change_note: "First version",
    nodes: nodes.map(({ id, type, title, body = "", ...rest }) => ({ id, type, title, body, ...rest })),
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
