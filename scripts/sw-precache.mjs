// Writes the service worker's two file lists and a content-derived version into dist/sw.js,
// once both bundles are built (scripts/build.sh): the kitchen's files (dist/ less bureau/),
// which a new worker must cache before it installs, and the office bundle's (dist/bureau/) and
// the territory bundle's (dist/territoire/), cached after them without failing the install.
// Usage: node scripts/sw-precache.mjs DIST
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, sep } from "node:path";

const dir = process.argv[2];
if (!dir) throw new Error("usage: node scripts/sw-precache.mjs DIST");

function walk(d) {
  return readdirSync(d).flatMap((name) => {
    if (name.startsWith(".")) return [];
    const p = join(d, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

const hash = createHash("sha256");
const files = walk(dir)
  .map((p) => "/" + relative(dir, p).split(sep).join("/"))
  .filter((u) => u !== "/sw.js" && !u.endsWith(".gz"))
  .sort();
for (const f of files) hash.update(f).update(readFileSync(join(dir, f)));
const version = hash.digest("hex").slice(0, 16);
const office = files.filter((f) => f.startsWith("/bureau/"));
const territory = files.filter((f) => f.startsWith("/territoire/"));
const kitchen = ["/", ...files.filter((f) => !f.startsWith("/bureau/") && !f.startsWith("/territoire/"))];
const swPath = join(dir, "sw.js");
const template = readFileSync(swPath, "utf8");
if (!template.includes("__ASSIETTE_PRECACHE__")) throw new Error(`${swPath} has no placeholders: was it written already?`);
const sw = template
  .replace('"__ASSIETTE_VERSION__"', JSON.stringify(version))
  .replace("__ASSIETTE_PRECACHE__", JSON.stringify(kitchen))
  .replace("__ASSIETTE_OFFICE__", JSON.stringify(office))
  .replace("__ASSIETTE_TERRITORY__", JSON.stringify(territory));
writeFileSync(swPath, sw);
console.log(`sw.js: version ${version}, ${kitchen.length} kitchen files, ${office.length} office files, ${territory.length} territory files`);
