import type { Problem } from "@tdt/kit";

/** The subset of an Ajv error the gateway reads. */
interface SchemaError {
  keyword: string;
  instancePath: string;
  message?: string | undefined;
  params: Record<string, unknown>;
}

const LOCATION: Record<string, string> = { body: "body", querystring: "query", params: "path", headers: "header" };

/** Rule names in the style FastAPI (pydantic) used, so the frontend's handling keeps working. */
function typeOf(error: SchemaError): string {
  switch (error.keyword) {
    case "required":
      return "missing";
    case "minLength":
      return "string_too_short";
    case "maxLength":
      return "string_too_long";
    case "pattern":
      return "string_pattern_mismatch";
    case "format":
      return `${String(error.params.format)}_format`;
    case "type":
      return `${String(error.params.type)}_type`;
    case "enum":
    case "const":
      return "enum";
    case "additionalProperties":
      return "extra_forbidden";
    case "minimum":
      return "greater_than_equal";
    case "maximum":
      return "less_than_equal";
    case "discriminator":
      // "mapping": a value no branch names; "tag": not a string.
      return error.params.error === "mapping" ? "enum" : "string_type";
    case "minItems":
      return "too_short";
    case "maxItems":
      return "too_long";
    default:
      return error.keyword;
  }
}

const DISCRIMINATOR_MESSAGE: Record<string, string> = {
  mapping: "must be equal to one of the allowed values",
  tag: "must be string",
};

/** A discriminator's complaint about a property that a `required` error already reports missing. */
function repeatsMissing(error: SchemaError, errors: SchemaError[]): boolean {
  return (
    error.keyword === "discriminator" &&
    errors.some(
      (other) =>
        other.keyword === "required" &&
        other.instancePath === error.instancePath &&
        other.params.missingProperty === error.params.tag,
    )
  );
}

function messageOf(error: SchemaError): string {
  if (error.keyword === "required") return "Field required";
  if (error.keyword === "discriminator") return DISCRIMINATOR_MESSAGE[String(error.params.error)] ?? "Invalid value";
  return error.message ?? "Invalid value";
}

/** Ajv errors as the 422 problem list of SPEC §3: `loc` is where, `type` names the rule. */
export function problemsFromSchemaErrors(errors: SchemaError[], context: string): Problem[] {
  return errors
    .filter((error) => !repeatsMissing(error, errors))
    .map((error) => {
      const path = error.instancePath
        .split("/")
        .slice(1)
        .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"))
        .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
      if (error.keyword === "required") path.push(String(error.params.missingProperty));
      if (error.keyword === "additionalProperties") path.push(String(error.params.additionalProperty));
      // A `oneOf` keyed by a property (e.g. a policy's `preset`): the fault is in that property.
      if (error.keyword === "discriminator") path.push(String(error.params.tag));
      return { loc: [LOCATION[context] ?? context, ...path], msg: messageOf(error), type: typeOf(error) };
    });
}
