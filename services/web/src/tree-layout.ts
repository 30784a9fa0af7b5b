/**
 * Where each node of a tree goes on the map: in layers by depth from the root (breadth first,
 * so a node sits at its shortest distance), the edges labelled by option or by logic rule. Works on drafts that
 * do not validate yet: a link to a missing node is a broken edge, a node the root does not
 * reach goes in a last layer of its own, and a cycle cannot loop.
 */

/** The part of a node the map needs; a draft being edited may have any of it wrong. */
export interface MapNode {
  id: string;
  type: string;
  title?: string;
  options?: Array<{ id?: string; label?: string; next?: string }>;
  next?: string;
  /** A logic node's rules, each to its `next`, and where it goes when none holds. */
  rules?: Array<{ when?: string; next?: string }>;
  default_next?: string;
}

export interface PlacedNode {
  node: MapNode;
  /** Its index in the tree's `nodes`, which a validation problem's `loc` names. */
  index: number;
  layer: number;
  /** Its place within the layer, from 0. */
  slot: number;
}

export interface MapEdge {
  from: number;
  /** The index of the node it leads to; undefined when no node has that id. */
  to: number | undefined;
  target: string;
  label: string;
  /** A logic node's way when no rule holds (its label is the map's to word). */
  otherwise?: true;
}

export interface TreeLayout {
  layers: PlacedNode[][];
  edges: MapEdge[];
  /** Whether the last layer holds the nodes the root does not reach. */
  hasUnreachable: boolean;
}

/** The nodes of a tree or of a draft that may have any of them wrong, as the map reads them. */
export function mapNodes(nodes: unknown): MapNode[] {
  if (!Array.isArray(nodes)) return [];
  return nodes.map((node: Record<string, unknown> | null, index) => ({
    id: typeof node?.id === "string" ? node.id : `#${index + 1}`,
    type: typeof node?.type === "string" ? node.type : "unknown",
    title: typeof node?.title === "string" ? node.title : "",
    options: Array.isArray(node?.options) ? (node.options as MapNode["options"]) : undefined,
    next: typeof node?.next === "string" ? node.next : undefined,
    rules: Array.isArray(node?.rules) ? (node.rules as MapNode["rules"]) : undefined,
    default_next: typeof node?.default_next === "string" ? node.default_next : undefined,
  }));
}

type Link = { target: string; label: string; otherwise?: true };

/**
 * The links out of a node: a question's options (labelled), an action's, a link's or a form's
 * `next`, a logic node's rules (labelled by their condition) and its `default_next`.
 */
export function linksOf(node: MapNode): Link[] {
  const options = Array.isArray(node.options) ? node.options : [];
  const rules = Array.isArray(node.rules) ? node.rules : [];
  const links: Link[] = [
    ...options.map((option) => ({ target: String(option?.next ?? ""), label: String(option?.label ?? "") })),
    ...rules.map((rule) => ({ target: String(rule?.next ?? ""), label: String(rule?.when ?? "") })),
  ];
  if (typeof node.next === "string") links.push({ target: node.next, label: "" });
  if (typeof node.default_next === "string") links.push({ target: node.default_next, label: "", otherwise: true });
  return links;
}

export function layoutTree(nodes: MapNode[], rootId: string): TreeLayout {
  const indexOfId = new Map<string, number>();
  nodes.forEach((node, index) => {
    if (!indexOfId.has(node.id)) indexOfId.set(node.id, index);
  });
  const edges: MapEdge[] = nodes.flatMap((node, from) =>
    linksOf(node).map((link) => ({ from, to: indexOfId.get(link.target), ...link })),
  );

  const depth = new Map<number, number>();
  const root = indexOfId.get(rootId);
  const queue: number[] = [];
  if (root !== undefined) {
    depth.set(root, 0);
    queue.push(root);
  }
  while (queue.length > 0) {
    const from = queue.shift() as number;
    for (const edge of edges) {
      if (edge.from !== from || edge.to === undefined || depth.has(edge.to)) continue;
      depth.set(edge.to, (depth.get(from) ?? 0) + 1);
      queue.push(edge.to);
    }
  }

  const reachedLayers = Math.max(-1, ...depth.values()) + 1;
  const layers: PlacedNode[][] = Array.from({ length: reachedLayers }, () => []);
  const unreachable: PlacedNode[] = [];
  nodes.forEach((node, index) => {
    const layer = depth.get(index);
    const row = layer === undefined ? unreachable : (layers[layer] as PlacedNode[]);
    row.push({ node, index, layer: layer ?? reachedLayers, slot: row.length });
  });
  if (unreachable.length > 0) layers.push(unreachable);
  return { layers, edges, hasUnreachable: unreachable.length > 0 };
}
