import { basename, resolve } from "node:path";

/** The repository root, whether this runs compiled (scripts/dist) or as source (scripts). */
export const ROOT = resolve(import.meta.dirname, basename(import.meta.dirname) === "dist" ? "../.." : "..");
