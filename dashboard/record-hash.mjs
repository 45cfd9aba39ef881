// After `vite build`: record a hash of the sources next to the built files. A Python test
// recomputes it from the committed sources, so CI notices assets that were not rebuilt.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";

const ROOT = new URL(".", import.meta.url).pathname;
const INPUTS = ["index.html", "package.json", "package-lock.json", "vite.config.js", "src"];

function files(path) {
  return statSync(path).isDirectory() ? readdirSync(path).sort().flatMap((n) => files(join(path, n))) : [path];
}

const hash = createHash("sha256");
for (const file of INPUTS.flatMap((p) => files(join(ROOT, p)))) {
  hash.update(relative(ROOT, file).split("\\").join("/") + "\n");
  hash.update(readFileSync(file));
  hash.update("\n");
}
writeFileSync(join(ROOT, "../core/runtime/dashboard/SOURCES.sha256"), hash.digest("hex") + "\n");
