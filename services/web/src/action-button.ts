/** A button in a row of a list that acts on the row's thing through the API. */
import { h } from "./dom.js";
import type { Screen } from "./screen.js";

/**
 * A button that calls the API: off while its call runs, a failure told in the notice line. It is
 * described by what it acts on (an endpoint's URL, a key's name), which tells one row's "Delete"
 * from another's.
 */
export function actionButton(
  screen: Screen,
  label: string,
  name: string,
  describedBy: string,
  run: () => Promise<void>,
) {
  const button = h("button", { type: "button", class: `secondary ${name}`, "aria-describedby": describedBy }, label);
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await run();
    } catch (error) {
      screen.fail(error);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}
