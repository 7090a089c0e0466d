// End-to-end runner: runs every `*.test.mjs` in this folder (or those named on the command
// line), each test with its own server, database and browser profile, and prints
// "N passed, N failed". Exit code 1 on any failure.
import { readdirSync } from "node:fs";
import { basename, join } from "node:path";
import { ROOT } from "./harness.mjs";

const dir = join(ROOT, "tests/e2e");
const only = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".test.mjs"))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();

let passed = 0;
let failed = 0;
for (const file of files) {
  const mod = await import(join(dir, file));
  for (const [name, fn] of Object.entries(mod.tests ?? {})) {
    const started = Date.now();
    try {
      await Promise.race([
        fn(),
        new Promise((_, ko) => setTimeout(() => ko(new Error("timed out after 180 s")), 180_000)),
      ]);
      passed++;
      console.log(`ok - ${basename(file, ".test.mjs")}: ${name} (${Date.now() - started} ms)`);
    } catch (e) {
      failed++;
      console.log(`not ok - ${basename(file, ".test.mjs")}: ${name}\n  ${String(e.stack || e).replaceAll("\n", "\n  ")}`);
    }
  }
}
console.log(`\ne2e: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
