import type { TreeInput } from "@tdt/proto/tdt/trees/v1/trees";

/**
 * Old spellings still accepted in what authors send, read as today's: a solution's outcome was
 * `escalate` before it was spelled as a session's (`escalated`) across the API.
 */
const LEGACY_OUTCOMES: Record<string, string> = { escalate: "escalated" };

/** `input` with every old spelling replaced, so that only today's are validated and stored. */
export function withCurrentSpellings(input: TreeInput): TreeInput {
  return {
    ...input,
    nodes: input.nodes.map((node) =>
      node.outcome !== undefined && Object.hasOwn(LEGACY_OUTCOMES, node.outcome)
        ? { ...node, outcome: LEGACY_OUTCOMES[node.outcome] }
        : node,
    ),
  };
}
