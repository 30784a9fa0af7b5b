// What the contract generators share: the descriptor set `buf build proto -o <file>.binpb` made,
// read from the command line, and the names of our own contracts and their closed lists.
import { readFileSync } from "node:fs";
import { createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";

/** The registry of the descriptor set and the output path named by `node <script> <descriptors.binpb> <out.ts>`. */
export function readDescriptors(script) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error(`usage: ${script} <descriptors.binpb> <out.ts>`);
    process.exit(2);
  }
  return { registry: createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(input))), output };
}

/** Our own contracts only (not the options' package). */
export const ours = (desc) => desc.typeName.startsWith("tdt.") && !desc.typeName.startsWith("tdt.contract.");

/** `NODE_TYPE_QUESTION` of NodeType → "question": the enum's prefix stripped, lowercased. */
export function jsonValues(desc) {
  const prefix = `${desc.name.replace(/(?<!^)([A-Z])/g, "_$1").toUpperCase()}_`;
  return desc.values.map((value) => {
    if (!value.name.startsWith(prefix)) throw new Error(`${value.name} lacks the prefix ${prefix}`);
    return { number: value.number, json: value.name.slice(prefix.length).toLowerCase(), value };
  });
}
