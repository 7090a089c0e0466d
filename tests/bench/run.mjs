// Scripted browser benchmarks of the kitchen tablet app (issue 4, item 9). Not tests: they
// print figures against the budgets. Needs the release build (scripts/build.sh: dist/ and
// target/release/assiette-server). Usage:
//   node tests/bench/run.mjs [size] [navigation] [save] [charts] [import]   (default: all)
// Environment: BENCH_RUNS (repetitions, default 15), BENCH_JSON=path to also write the figures.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { gzipSync, constants as zc } from "node:zlib";
import { Server, STATIC_DIR, launchBrowser, openApp, waitForServiceWorker } from "../e2e/harness.mjs";
import { seedYear } from "./seed.mjs";

const RUNS = Number(process.env.BENCH_RUNS || 15);
const BUDGET = { navigationMs: 1000, saveP95Ms: 20, chartRedrawMs: 100, transferKB: 300, territoryExtraKB: 150 };

function quantile(values, q) {
  const s = [...values].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}
const stats = (v) => ({ n: v.length, median: quantile(v, 0.5), p95: quantile(v, 0.95), min: Math.min(...v), max: Math.max(...v) });
const ms = (x) => `${x.toFixed(1)} ms`;
const verdict = (ok) => (ok ? "OK" : "AU-DESSUS DU BUDGET");

// ---------- transfer size ----------
function files(dir) {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : [p];
  });
}

// Bytes on the wire for one file, as a browser asks for it (Accept-Encoding: gzip), and the
// encoding the server chose: the build's Zopfli copy when there is one.
function served(url) {
  return new Promise((ok, ko) => {
    http
      .get(url, { headers: { "Accept-Encoding": "gzip" } }, (res) => {
        let bytes = 0;
        res.on("data", (d) => (bytes += d.length));
        res.on("end", () => ok({ status: res.statusCode, bytes, encoding: res.headers["content-encoding"] || "aucun" }));
      })
      .on("error", ko);
  });
}

async function benchSize() {
  const assets = files(STATIC_DIR).filter((f) => /\.(wasm|js|css)$/.test(f));
  if (assets.length === 0) throw new Error(`no wasm/js/css in ${STATIC_DIR}: run scripts/build.sh first`);
  const server = await Server.start();
  try {
    const rows = [];
    for (const f of assets) {
      const raw = readFileSync(f);
      const file = f.slice(STATIC_DIR.length + 1);
      const wire = await served(`${server.url}/${file}`);
      if (wire.status !== 200) throw new Error(`${file}: HTTP ${wire.status}`);
      rows.push({
        file,
        raw: raw.length,
        gzip6: gzipSync(raw, { level: 6 }).length,
        gzip9: gzipSync(raw, { level: zc.Z_BEST_COMPRESSION }).length,
        served: wire.bytes,
        encoding: wire.encoding,
      });
    }
    const total = (k, rs = rows) => rs.reduce((s, r) => s + r[k], 0);
    const kb = (b) => (b / 1024).toFixed(1);
    // The kitchen's first visit loads dist/ less bureau/; the office bundle (bureau/) is loaded
    // when a screen of it opens, or fetched by the service worker once it has installed.
    const office = (r) => r.file.startsWith("bureau/");
    // The territory bundle (territoire/): the officer's overview, loaded on its own page.
    const territory = (r) => r.file.startsWith("territoire/");
    const kitchenRows = rows.filter((r) => !office(r) && !territory(r));
    const officeRows = rows.filter(office);
    const territoryRows = rows.filter(territory);
    const appRows = kitchenRows.filter((r) => !/(^|\/)sw\.js$/.test(r.file));
    console.log("\n## Taille transférée (wasm + js + css de dist/, telle que le serveur l'envoie)");
    for (const r of rows)
      console.log(`  ${r.file.padEnd(48)} ${kb(r.raw).padStart(8)} KB brut  ${kb(r.served).padStart(7)} KB envoyés (${r.encoding})  gzip -6 : ${kb(r.gzip6)}, -9 : ${kb(r.gzip9)}`);
    console.log(`  première visite (cuisine : Aujourd'hui) : ${kb(total("raw", kitchenRows))} KB brut, ${kb(total("served", kitchenRows))} KB envoyés (gzip -6 : ${kb(total("gzip6", kitchenRows))}, -9 : ${kb(total("gzip9", kitchenRows))}) ; sans le service worker : ${kb(total("served", appRows))} KB`);
    console.log(`  second paquet (bureau : graphiques, réglages) : ${kb(total("raw", officeRows))} KB brut, ${kb(total("served", officeRows))} KB envoyés, chargés à l'ouverture d'un de ses écrans ou par le service worker une fois installé`);
    console.log(`  budget première visite ≤ ${BUDGET.transferKB} KB : ${verdict(total("served", kitchenRows) / 1024 <= BUDGET.transferKB)}`);
    // The officer's overview page loads the territory bundle's wasm, js and css; its extra
    // download beyond the tablet's bundle is their bytes less the kitchen's (issue 13: ≤ 150 KB).
    const extra = total("served", territoryRows) - total("served", appRows);
    console.log(`  troisième paquet (territoire : vue d'ensemble, tendances, communes) : ${kb(total("raw", territoryRows))} KB brut, ${kb(total("served", territoryRows))} KB envoyés ; de plus que le paquet de la tablette (sans service worker) : ${kb(extra)} KB ; budget ≤ ${BUDGET.territoryExtraKB} KB : ${verdict(extra / 1024 <= BUDGET.territoryExtraKB)}`);
    return { files: rows, firstVisitServed: total("served", kitchenRows), officeServed: total("served", officeRows), territoryServed: total("served", territoryRows), territoryExtraServed: extra, totalRaw: total("raw"), totalServed: total("served"), totalGzip6: total("gzip6"), totalGzip9: total("gzip9") };
  } finally {
    await server.dispose();
  }
}

// ---------- helpers ----------
async function withApp(fn, viewport = { width: 800, height: 1280 }) {
  const server = await Server.start();
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ locale: "fr-FR", viewport });
    const page = await openApp(context, server.url);
    return await fn({ server, browser, context, page });
  } finally {
    await browser.close();
    await server.dispose();
  }
}

// ---------- navigation to an interactive Today screen, offline, CPU 4× slower ----------
async function benchNavigation() {
  return withApp(async ({ server, context, page }) => {
    // Time (from the navigation's start) when the shell says it is interactive and the Today
    // form is on screen.
    await context.addInitScript(() => {
      window.__readyAt = null;
      const check = () => {
        if (window.__readyAt === null && document.body?.hasAttribute("data-ready") && document.querySelector("#mass")) {
          window.__readyAt = performance.now();
          return true;
        }
        return false;
      };
      const obs = new MutationObserver(() => check() && obs.disconnect());
      obs.observe(document, { subtree: true, childList: true, attributes: true });
    });
    await waitForServiceWorker(page);
    await server.stop();
    const cdp = await context.newCDPSession(page);
    const measure = async (rate) => {
      await cdp.send("Emulation.setCPUThrottlingRate", { rate });
      const times = [];
      for (let i = 0; i < RUNS + 1; i++) {
        await page.reload();
        await page.waitForFunction(() => window.__readyAt !== null, null, { timeout: 60_000 });
        const t = await page.evaluate(() => window.__readyAt);
        if (i > 0) times.push(t); // the first reload warms the worker
      }
      return stats(times);
    };
    const throttled = await measure(4);
    const normal = await measure(1);
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 1 });
    console.log("\n## Navigation vers l'écran Aujourd'hui interactif, hors ligne (servi par le service worker)");
    console.log(`  CPU ralenti 4× : médiane ${ms(throttled.median)}, p95 ${ms(throttled.p95)} (min ${ms(throttled.min)}, max ${ms(throttled.max)}, ${throttled.n} rechargements)`);
    console.log(`  CPU normal     : médiane ${ms(normal.median)}, p95 ${ms(normal.p95)}`);
    console.log(`  budget ≤ ${BUDGET.navigationMs} ms (4×, médiane) : ${verdict(throttled.median <= BUDGET.navigationMs)}`);
    return { throttled4x: throttled, unthrottled: normal };
  });
}

// ---------- save latency ----------
async function benchSave() {
  return withApp(async ({ server, context, page }) => {
    await waitForServiceWorker(page);
    await server.stop();
    await page.fill("#planned", "130");
    await page.fill("#served_children", "120");
    await page.fill("#served_adults", "8");
    await page.click("button:has-text('Enregistrer les repas')");
    // A count on a Sunday asks for confirmation; saved once it waits in the outbox.
    const confirm = page.locator("form.meal-form button:has-text('Confirmer et enregistrer')");
    await page.waitForFunction(() => document.querySelector("[data-pending]").dataset.pending !== "0" || !!document.querySelector("form.meal-form .warnings"));
    if (await confirm.isVisible()) await confirm.click();
    await page.waitForSelector("[data-pending='1']");
    await page.click("[data-stage=leftovers]");
    await page.click("[data-component=dessert]");
    // Tap "Enregistrer la pesée" → "✓ … enregistré", timed inside the page.
    // Tap the component and type the mass (untimed: a cook does it seconds before), let the
    // page settle, then tap "Enregistrer la pesée" → "✓ … enregistré", timed inside the page.
    const once = async (kg) => {
      await page.evaluate((kg) => {
        const form = document.querySelector("form.weighing-form");
        // The component is cleared after each save (the stage stays).
        form.querySelector("[data-component=dessert]").click();
        const input = form.querySelector("#mass");
        input.value = kg;
        input.dispatchEvent(new Event("input", { bubbles: true }));
      }, kg);
      await page.evaluate(() => new Promise((r) => requestIdleCallback(() => r(), { timeout: 2000 })));
      return page.evaluate(() => {
        const form = document.querySelector("form.weighing-form");
        const note = form.querySelector("[data-testid=saved]");
        const button = form.querySelector("button[type=submit]");
        return new Promise((ok, ko) => {
          const timer = setTimeout(() => ko(new Error(`no saved note; errors: ${form.querySelector(".error")?.textContent}`)), 10_000);
          const obs = new MutationObserver(() => {
            if (note.textContent.includes("enregistré")) {
              const dt = performance.now() - t0;
              obs.disconnect();
              clearTimeout(timer);
              ok(dt);
            }
          });
          obs.observe(note, { childList: true, subtree: true, characterData: true });
          const t0 = performance.now();
          button.click();
        });
      });
    };
    const measure = async (n) => {
      const times = [];
      for (let i = 0; i < n; i++) {
        // A cook taps again seconds later, not while the previous save's list refresh still
        // runs: each tap starts from an idle page, as on the tablet.
        await page.evaluate(() => new Promise((r) => requestIdleCallback(() => r(), { timeout: 2000 })));
        times.push(await once(`${1 + (i % 9)},${i % 10}`));
      }
      return stats(times.slice(3)); // first saves warm the code paths
    };
    const n = Math.max(40, RUNS * 4);
    const normal = await measure(n);
    const cdp = await context.newCDPSession(page);
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
    const throttled = await measure(Math.ceil(n / 2));
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 1 });
    console.log("\n## Latence d'enregistrement d'une pesée (appui → « ✓ … enregistré », transaction IndexedDB validée)");
    console.log(`  CPU normal     : médiane ${ms(normal.median)}, p95 ${ms(normal.p95)} (max ${ms(normal.max)}, ${normal.n} pesées)`);
    console.log(`  CPU ralenti 4× : médiane ${ms(throttled.median)}, p95 ${ms(throttled.p95)} (${throttled.n} pesées)`);
    console.log(`  budget p95 ≤ ${BUDGET.saveP95Ms} ms (CPU normal) : ${verdict(normal.p95 <= BUDGET.saveP95Ms)}`);
    return { unthrottled: normal, throttled4x: throttled };
  });
}

// ---------- chart redraw for a year of one site ----------
async function benchCharts() {
  return withApp(async ({ page, context }) => {
    const seeded = await seedYear(page, { days: 200, perDay: 20 });
    await page.click("nav.tabs a:has-text('Graphiques')");
    await page.waitForFunction(() => Number(document.querySelector("[data-testid=charts]")?.dataset.draws) > 0, null, { timeout: 60_000 });
    // Click a period and wait for the charts to be drawn; wall time measured in the page.
    const redraw = (code) =>
      page.evaluate((code) => {
        const root = document.querySelector("[data-testid=charts]");
        const before = Number(root.dataset.draws);
        return new Promise((ok, ko) => {
          const timer = setTimeout(() => ko(new Error("charts not redrawn")), 30_000);
          const obs = new MutationObserver(() => {
            if (Number(root.dataset.draws) > before) {
              const wall = performance.now() - t0;
              obs.disconnect();
              clearTimeout(timer);
              ok({ wall, compute: Number(root.dataset.computeMs), draw: Number(root.dataset.drawMs), points: Number(document.querySelector("[data-testid=chart-trend]").dataset.points) });
            }
          });
          obs.observe(root, { attributes: true });
          const t0 = performance.now();
          document.querySelector(`button[data-period='${code}']`).click();
        });
      }, code);
    // Leave the page for another of its bundle and come back: the records are read from
    // IndexedDB again (what a data change costs too), then prepared and drawn.
    const reopen = async () => {
      await page.click("nav.tabs a:has-text('Réglages')");
      await page.waitForSelector("#name");
      return page.evaluate(() => {
        return new Promise((ok, ko) => {
          const timer = setTimeout(() => ko(new Error("charts page not drawn")), 30_000);
          const done = () => {
            const root = document.querySelector("[data-testid=charts]");
            if (root && Number(root.dataset.draws) > 0) {
              const wall = performance.now() - t0;
              obs.disconnect();
              clearTimeout(timer);
              ok({ wall, load: Number(root.dataset.loadMs), compute: Number(root.dataset.computeMs), draw: Number(root.dataset.drawMs) });
            }
          };
          const obs = new MutationObserver(done);
          obs.observe(document.body, { subtree: true, attributes: true, childList: true });
          const t0 = performance.now();
          [...document.querySelectorAll("nav.tabs a")].find((a) => a.textContent.includes("Graphiques")).click();
        });
      });
    };
    const resize = async (width) => {
      const before = Number(await page.getAttribute("[data-testid=charts]", "data-draws"));
      await page.setViewportSize({ width, height: 1280 });
      await page.waitForFunction((n) => Number(document.querySelector("[data-testid=charts]").dataset.draws) > n, before);
      return Number(await page.getAttribute("[data-testid=charts]", "data-draw-ms"));
    };
    let width = 800;
    const measure = async () => {
      const full = [];
      const compute = [];
      const draw = [];
      let points = 0;
      // Alternate so that every click changes the period; the first "tout" warms up.
      for (let i = 0; i < RUNS + 1; i++) {
        const r = await redraw("tout");
        await redraw("30j");
        if (i === 0) continue;
        full.push(r.wall);
        compute.push(r.compute);
        draw.push(r.draw);
        points = r.points;
      }
      const drawOnly = [];
      for (let i = 0; i < RUNS; i++) drawOnly.push(await resize((width = width === 800 ? 760 : 800)));
      const open = [];
      const openLoad = [];
      const firstAll = [];
      for (let i = 0; i < RUNS; i++) {
        const r = await reopen();
        open.push(r.wall);
        openLoad.push(r.load);
        // The page opens on 30 days; the first "Tout" reads the whole year.
        firstAll.push((await redraw("tout")).wall);
      }
      return { full: stats(full), compute: stats(compute), draw: stats(draw), resizeDraw: stats(drawOnly), open: stats(open), openLoad: stats(openLoad), firstAll: stats(firstAll), points };
    };
    const normal = await measure();
    const cdp = await context.newCDPSession(page);
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
    const throttled = await measure();
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 1 });
    console.log(`\n## Graphiques d'une année (${seeded.days} jours, ${seeded.weighings} pesées, du ${seeded.first} au ${seeded.last}; ${normal.points} points tracés)`);
    for (const [name, r] of [["CPU normal", normal], ["CPU ralenti 4×", throttled]]) {
      console.log(`  ${name} :`);
      console.log(`    changement de période (30 jours → tout) → 4 graphiques : médiane ${ms(r.full.median)}, p95 ${ms(r.full.p95)}`);
      console.log(`      dont calcul des indicateurs : médiane ${ms(r.compute.median)} ; dessin : médiane ${ms(r.draw.median)}, p95 ${ms(r.draw.p95)}`);
      console.log(`    redessin seul (rotation / redimensionnement) : médiane ${ms(r.resizeDraw.median)}, p95 ${ms(r.resizeDraw.p95)}`);
      console.log(`    ouverture de la page sur 30 jours (relecture IndexedDB) : médiane ${ms(r.open.median)}, p95 ${ms(r.open.p95)} ; dont lecture + décodage : médiane ${ms(r.openLoad.median)}`);
      console.log(`    premier passage à « Tout » après l'ouverture (lecture + décodage de l'année) : médiane ${ms(r.firstAll.median)}, p95 ${ms(r.firstAll.p95)}`);
    }
    console.log(`  budget ≤ ${BUDGET.chartRedrawMs} ms (CPU normal, médiane) : redessin ${verdict(normal.draw.median <= BUDGET.chartRedrawMs)} ; changement de période ${verdict(normal.full.median <= BUDGET.chartRedrawMs)} ; ouverture ${verdict(normal.open.median <= BUDGET.chartRedrawMs)} ; première lecture de l'année ${verdict(normal.firstAll.median <= BUDGET.chartRedrawMs)}`);
    return { seeded, unthrottled: normal, throttled4x: throttled };
  });
}


// ---------- import of a 100,000-line national CSV on the device (office bundle) ----------
// A generated national file, picked in « Achats » on a fresh profile each run: the time from
// the file's choice to its preview (read by slices and checked), then from « Importer » to the
// end of the one IndexedDB transaction, CPU at normal speed; and the longest gap between two
// updates of the progress bar.
const IMPORT_LINES = Number(process.env.BENCH_IMPORT_LINES || 100_000);
const IMPORT_RUNS = Number(process.env.BENCH_IMPORT_RUNS || 5);
const IMPORT_SIRET = "21010034300016";

function nationalCsv(lines) {
  const families = ["VIANDES_VOLAILLES", "PRODUITS_DE_LA_MER", "FRUITS_ET_LEGUMES", "CHARCUTERIE", "PRODUITS_LAITIERS", "BOULANGERIE", "BOISSONS", "AUTRES"];
  const labels = ["BIO", "LABEL_ROUGE", "HVE", "", "BIO,COMMERCE_EQUITABLE", "", "AOCAOP", ""];
  const out = ["siret,description,fournisseur,date,prix_ht,famille_produits,categories_egalim,origine,est_circuit_court,est_local,definition_local,definition_local_km"];
  for (let i = 0; i < lines; i++) {
    const m = 1 + (i % 12);
    const d = 1 + (i % 28);
    out.push(`${IMPORT_SIRET},Produit ${i % 5000} ${i},Fournisseur ${i % 300},2025-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")},${(i % 90000) / 100 + 1},${families[i % 8]},"${labels[i % 8]}",${i % 3 === 0 ? "FRANCE" : ""},${i % 5 === 0 ? "oui" : ""},${i % 7 === 0 ? "oui" : ""},${i % 7 === 0 ? "REGION" : ""},`);
  }
  return out.join("\n") + "\n";
}

async function benchImport() {
  const { mkdtempSync, writeFileSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const dir = mkdtempSync(join(tmpdir(), "assiette-bench-import-"));
  const file = join(dir, "achats-100000.csv");
  writeFileSync(file, nationalCsv(IMPORT_LINES));
  const bytes = statSync(file).size;
  const server = await Server.start();
  const browser = await launchBrowser();
  try {
    const read = [];
    const write = [];
    const gaps = [];
    for (let run = 0; run < IMPORT_RUNS; run++) {
      // A fresh profile (empty IndexedDB) each run.
      const context = await browser.newContext({ locale: "fr-FR", viewport: { width: 1280, height: 900 } });
      const page = await openApp(context, `${server.url}/bureau/reglages`);
      await page.waitForFunction(() => (document.querySelector("#name")?.value ?? "") !== "");
      await page.fill("#siret", IMPORT_SIRET);
      await page.click("button:has-text('Enregistrer le profil')");
      await page.waitForSelector("[data-testid=profile-saved]:has-text('enregistré')");
      await page.click('nav.tabs a:has-text("Achats")');
      await page.click("[data-testid=open-import]");
      // Every change of the progress text, timed by the page.
      await page.evaluate(() => {
        window.__progress = [];
        const obs = new MutationObserver(() => {
          const label = document.querySelector("[data-testid=import-progress] label");
          const text = label?.textContent ?? null;
          const last = window.__progress.at(-1);
          if (text && (!last || last.text !== text)) window.__progress.push({ t: performance.now(), text });
          if (document.querySelector("[data-testid=import-preview]") && !window.__previewAt) window.__previewAt = performance.now();
          if (document.querySelector("[data-testid=import-written]") && !window.__writtenAt) window.__writtenAt = performance.now();
        });
        obs.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true });
        document.querySelector("#purchase-file").addEventListener("change", () => (window.__chosenAt = performance.now()), { capture: true });
      });
      await page.setInputFiles("#purchase-file", file);
      await page.waitForSelector("[data-testid=import-preview]", { timeout: 120_000 });
      const lines = Number(await page.getAttribute("[data-testid=import-preview]", "data-lines"));
      if (lines !== IMPORT_LINES) throw new Error(`preview: ${lines} lines`);
      await page.evaluate(() => (window.__writeAt = performance.now()));
      await page.click("[data-testid=import-write]");
      await page.waitForSelector("[data-testid=import-written]", { timeout: 120_000 });
      const t = await page.evaluate(() => ({ chosen: window.__chosenAt, preview: window.__previewAt, write: window.__writeAt, written: window.__writtenAt, progress: window.__progress }));
      read.push(t.preview - t.chosen);
      write.push(t.written - t.write);
      // Gaps between updates while reading (choice → first update → … → preview) and while writing.
      const during = (from, to) => [from, ...t.progress.map((p) => p.t).filter((x) => x > from && x < to), to];
      for (const [from, to] of [[t.chosen, t.preview], [t.write, t.written]]) {
        const ts = during(from, to);
        for (let i = 1; i < ts.length; i++) gaps.push(ts[i] - ts[i - 1]);
      }
      await context.close();
    }
    const r = stats(read);
    const w = stats(write);
    const both = stats(read.map((x, i) => x + write[i]));
    const maxGap = Math.max(...gaps);
    console.log(`\n## Import d'un fichier national de ${IMPORT_LINES.toLocaleString("fr-FR")} lignes sur l'appareil (${(bytes / 1048576).toFixed(1)} Mo, CPU normal, ${IMPORT_RUNS} répétitions)`);
    console.log(`  lecture et vérification (choix du fichier → aperçu) : médiane ${ms(r.median)}, min ${ms(r.min)}, max ${ms(r.max)}`);
    console.log(`  écriture en une transaction IndexedDB (achats + file d'envoi) : médiane ${ms(w.median)}, min ${ms(w.min)}, max ${ms(w.max)}`);
    console.log(`  total vérifié et écrit : médiane ${ms(both.median)} ; plus long intervalle entre deux mises à jour de la progression : ${ms(maxGap)}`);
    console.log(`  budget ≤ 5 000 ms : ${verdict(both.median <= 5000)} ; progression ≤ 500 ms : ${verdict(maxGap <= 500)}`);
    return { lines: IMPORT_LINES, bytes, read: r, write: w, total: both, maxProgressGapMs: maxGap };
  } finally {
    await browser.close();
    await server.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------- main ----------
const wanted = process.argv.slice(2);
const all = { size: benchSize, navigation: benchNavigation, save: benchSave, charts: benchCharts, import: benchImport };
const chosen = wanted.length ? wanted : Object.keys(all);
const browserVersion = await (async () => {
  const b = await launchBrowser();
  const v = b.version();
  await b.close();
  return v;
})();
console.log(`# Assiette, mesures (${new Date().toISOString()})`);
console.log(`Machine : ${cpus().length} cœurs (${cpus()[0]?.model.trim()}), ${(totalmem() / 2 ** 30).toFixed(1)} Go ; Chromium ${browserVersion} headless ; ${RUNS} répétitions`);
const results = { machine: { cores: cpus().length, cpu: cpus()[0]?.model, memGB: totalmem() / 2 ** 30, chromium: browserVersion }, budgets: BUDGET };
let failed = false;
for (const name of chosen) {
  if (!all[name]) {
    console.error(`mesure inconnue : ${name} (size, navigation, save, charts, import)`);
    process.exit(2);
  }
  try {
    results[name] = await all[name]();
  } catch (e) {
    failed = true;
    console.error(`\n## ${name} : ÉCHEC\n  ${e.stack || e}`);
  }
}
if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(results, null, 2));
process.exit(failed ? 1 : 0);
