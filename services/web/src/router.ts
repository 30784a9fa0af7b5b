/** Hash routes (`#/session/<id>`): the server only ever serves `/` and the assets. */

export type Route =
  | { name: "login" }
  | { name: "trees"; query: string }
  | { name: "start"; treeId: string }
  | { name: "session"; sessionId: string }
  | { name: "sessions" }
  | { name: "tree"; treeId: string };

export function routeOf(hash: string): Route {
  const [path = "", search = ""] = hash.replace(/^#\/?/, "").split("?");
  const [name, id = ""] = path.split("/").map(decodeURIComponent);
  switch (name) {
    case "login":
      return { name: "login" };
    case "start":
      return { name: "start", treeId: id };
    case "session":
      return { name: "session", sessionId: id };
    case "sessions":
      return { name: "sessions" };
    case "tree":
      return { name: "tree", treeId: id };
    default:
      return { name: "trees", query: new URLSearchParams(search).get("q") ?? "" };
  }
}

export function hashOf(route: Route): string {
  switch (route.name) {
    case "trees":
      return route.query ? `#/trees?${new URLSearchParams({ q: route.query })}` : "#/trees";
    case "start":
      return `#/start/${encodeURIComponent(route.treeId)}`;
    case "session":
      return `#/session/${encodeURIComponent(route.sessionId)}`;
    case "tree":
      return `#/tree/${encodeURIComponent(route.treeId)}`;
    default:
      return `#/${route.name}`;
  }
}

export function go(route: Route): void {
  location.hash = hashOf(route);
}
