/**
 * A draft's content as the editor holds it: the JSON the author edits, which may have anything
 * wrong while it is unfinished. Readers that take what is usable of it.
 */
import { ENUMS } from "@tdt/proto/tdt/contract";

export type Content = Record<string, unknown> & { nodes: Array<Record<string, unknown>>; root_node_id?: unknown };

/** A variable as a tree declares it, as far as the draft says. */
export interface DeclaredVariable {
  name: string;
  type: string;
  choices: string[];
  default?: unknown;
}

export const VARIABLE_TYPES = ENUMS["tdt.trees.v1.VariableType"].values;

export const text = (value: unknown) => (typeof value === "string" ? value : "");

/** The texts of a list (a variable's or a field's choices). */
export const texts = (value: unknown) => (Array.isArray(value) ? value.filter((item) => typeof item === "string") : []);

/** The draft's variables, each with a name, a type and its choices. */
export function declaredVariables(content: Record<string, unknown>): DeclaredVariable[] {
  const variables = Array.isArray(content.variables) ? (content.variables as Array<Record<string, unknown>>) : [];
  return variables
    .filter((variable) => variable && typeof variable === "object")
    .map((variable) => ({
      name: text(variable.name),
      type: text(variable.type) || "text",
      choices: texts(variable.choices),
      ...(variable.default !== undefined ? { default: variable.default } : {}),
    }));
}

/** "a, b, c" as a list of choices: each trimmed, none empty, none twice. */
export const choicesOf = (typed: string) => [
  ...new Set(
    typed
      .split(",")
      .map((choice) => choice.trim())
      .filter(Boolean),
  ),
];
