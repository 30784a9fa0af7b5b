// What the contract generators share: the descriptor set `buf build proto -o <file>.binpb` made,
// read from the command line, and the names of our own contracts and their closed lists.
import { readFileSync } from "node:fs";
import { createFileRegistry, fromBinary, getExtension, hasExtension } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

/** The registry of the descriptor set and the output path named by `node <script> <descriptors.binpb> <out.ts>`. */
export function readDescriptors(script) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error(`usage: ${script} <descriptors.binpb> <out.ts>`);
    process.exit(2);
  }
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(input)));
  jsonValueOption = registry.getExtension("tdt.contract.v1.json_value");
  return { registry, output };
}

/** `(tdt.contract.v1.json_value)`: a value's JSON name where it is not its lowercase name. */
let jsonValueOption;

/** Our own contracts only (not the options' package). */
export const ours = (desc) => desc.typeName.startsWith("tdt.") && !desc.typeName.startsWith("tdt.contract.");

/** `NODE_TYPE_QUESTION` of NodeType → "question": the enum's prefix stripped, lowercased (or its `json_value`). */
export function jsonValues(desc) {
  const prefix = `${desc.name.replace(/(?<!^)([A-Z])/g, "_$1").toUpperCase()}_`;
  return desc.values.map((value) => {
    if (!value.name.startsWith(prefix)) throw new Error(`${value.name} lacks the prefix ${prefix}`);
    const named =
      jsonValueOption && value.proto.options && hasExtension(value.proto.options, jsonValueOption)
        ? getExtension(value.proto.options, jsonValueOption)
        : "";
    return { number: value.number, json: named || value.name.slice(prefix.length).toLowerCase(), value };
  });
}
