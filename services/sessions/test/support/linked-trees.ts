/** Trees that run others through links, for the tests of how a session's trees are loaded. */
import { randomUUID } from "node:crypto";
import type { Tree } from "@tdt/proto/tdt/trees/v1/trees";
import { node, treeOf } from "./tree-of.js";

/** Asks whether the device is online; if not, runs the linked tree (node "check"); then it is done. */
export function asksThenLinks(title: string, linkedId: string, id = randomUUID(), version = 1): Tree {
  return treeOf(
    id,
    version,
    "online",
    [
      node("online", "question", {
        options: [
          { id: "no", label: "No", next: "check" },
          { id: "yes", label: "Yes", next: "done" },
        ],
      }),
      node("check", "link", { tree_id: linkedId, next: "done" }),
      node("done", "solution", { outcome: "resolved" }),
    ],
    title,
  );
}

/**
 * Three links deep at once: the laptop tree runs the dock check, whose root runs the hub check,
 * whose root runs the port check. The port check's solution goes back out to the laptop tree's
 * "done" (the inner links have no next).
 */
export function linkChain() {
  const port = treeOf(
    randomUUID(),
    1,
    "reseat",
    [node("reseat", "action", { next: "seated" }), node("seated", "solution", { outcome: "resolved" })],
    "Port",
  );
  const hub = treeOf(randomUUID(), 1, "to-port", [node("to-port", "link", { tree_id: port.id })], "Hub");
  const dock = treeOf(randomUUID(), 1, "to-hub", [node("to-hub", "link", { tree_id: hub.id })], "Dock");
  return { laptop: asksThenLinks("Laptop", dock.id), dock, hub, port };
}
