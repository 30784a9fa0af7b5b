/**
 * Problems shown in the page, beside the controls they are about (node-problems.ts says which
 * control each is; this module is the DOM's part, apart so that the pure part runs in Node).
 */
import type { Problem } from "./api-error.js";
import { controlIdOf } from "./node-problems.js";

/**
 * Shows each problem under its control in `container` (`path` is its `loc` after the node or the
 * tree): the control is marked invalid and described by the line. What has no control there is
 * said in `rest`, so that nothing is lost.
 */
export function showProblemsAt(
  container: HTMLElement,
  problems: Array<{ path: Problem["loc"]; msg: string }>,
  rest: HTMLElement,
): void {
  const unplaced: string[] = [];
  for (const { path, msg } of problems) {
    const id = controlIdOf(path);
    const control = id ? container.querySelector<HTMLElement>(`#${CSS.escape(id)}`) : null;
    if (!control) {
      unplaced.push(msg);
      continue;
    }
    const lineId = `${control.id}-problem`;
    let line = container.querySelector<HTMLElement>(`#${CSS.escape(lineId)}`);
    if (!line) {
      line = document.createElement("p");
      line.className = "form-error control-problem";
      line.id = lineId;
      control.insertAdjacentElement("afterend", line);
    }
    line.textContent = line.textContent ? `${line.textContent}\n${msg}` : msg;
    control.setAttribute("aria-invalid", "true");
    control.setAttribute("aria-describedby", lineId);
  }
  rest.textContent = unplaced.join("\n");
}
