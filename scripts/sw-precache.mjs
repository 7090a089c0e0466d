// Trunk post-build hook: writes the precache list (every file of the build but the worker
// itself) and a content-derived version into the staged sw.js.
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

const dir = process.env.TRUNK_STAGING_DIR;
if (!dir) throw new Error("TRUNK_STAGING_DIR is not set: run this as a Trunk hook");

function walk(d) {
  return readdirSync(d).flatMap((name) => {
    const p = join(d, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

const hash = createHash("sha256");
const files = walk(dir)
  .map((p) => "/" + relative(dir, p).split(sep).join("/"))
  .filter((u) => u !== "/sw.js")
  .sort();
for (const f of files) hash.update(f).update(readFileSync(join(dir, f)));
const version = hash.digest("hex").slice(0, 16);
const precache = ["/", ...files];
const swPath = join(dir, "sw.js");
const sw = readFileSync(swPath, "utf8")
  .replace('"__ASSIETTE_VERSION__"', JSON.stringify(version))
  .replace("__ASSIETTE_PRECACHE__", JSON.stringify(precache));
writeFileSync(swPath, sw);
console.log(`sw.js: version ${version}, ${precache.length} files precached`);
