/** What "New draft tree" starts from: the smallest tree that validates, to be edited into a real one, in the app's language. */
import type { TreeInput } from "./api.js";
import { t } from "./i18n.js";

export function newDraft(): TreeInput {
  return {
    title: t("template.title", { at: new Date().toISOString().slice(0, 16).replace("T", " ") }),
    description: t("template.description"),
    category: t("template.category"),
    tags: [],
    status: "draft",
    root_node_id: "start",
    change_note: t("template.changeNote"),
    nodes: [
      {
        id: "start",
        type: "question",
        title: t("template.question"),
        body: "",
        options: [
          { id: "yes", label: t("template.yes"), next: "escalate" },
          { id: "no", label: t("template.no"), next: "fixed" },
        ],
      },
      { id: "escalate", type: "solution", title: t("template.escalate"), body: "", outcome: "escalated" },
      { id: "fixed", type: "solution", title: t("template.solved"), body: "", outcome: "resolved" },
    ],
  };
}
