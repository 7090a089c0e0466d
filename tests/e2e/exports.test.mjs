// The manager's exports (office bundle, offline): the purchases shown in « Achats » saved as
// ma cantine's national CSV and as an Excel workbook; both read back by `assiette-server egalim`
// with the same totals as the file first imported, and the workbook imported again on a second
// device with the same lines and sum. Then the waste measurement for the declaration, from the
// day's weighings typed on « Aujourd'hui ».
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, SERVER_BIN, Server, launchBrowser, openApp, saveSiteProfile, waitForServiceWorker, assert, assertEqual, lastWeekday } from "./harness.mjs";

const FIXTURES = join(ROOT, "crates/domain/tests/fixtures/ma-cantine/achats");
const FIXTURE = join(FIXTURES, "purchases_good.csv");
const SIRET = "21010034300016";

/// `assiette-server egalim FILE`: the yearly totals as the server reads them.
function cliTotals(path) {
  const run = spawnSync(SERVER_BIN, ["egalim", path], { encoding: "utf8" });
  assertEqual(run.status, 0, `assiette-server egalim ${path}: ${run.stderr}`);
  return JSON.parse(run.stdout);
}

/// A device whose profile names the fixture's site, offline, on « Achats » with every year shown.
async function device(browser, server) {
  const context = await browser.newContext({ locale: "fr-FR", viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await openApp(context, server.url);
  await waitForServiceWorker(page);
  await saveSiteProfile(page, "École des Tilleuls", SIRET);
  await page.click('nav.tabs a:has-text("Achats")');
  await page.waitForSelector("[data-testid=purchases-total]");
  await page.selectOption("[data-testid=filter-year]", "");
  return { context, page };
}

async function importFile(page, path, lines) {
  await page.click("[data-testid=open-import]");
  await page.setInputFiles("#purchase-file", path);
  await page.waitForSelector("[data-testid=import-preview]");
  assertEqual(await page.getAttribute("[data-testid=import-preview]", "data-lines"), String(lines), `preview lines of ${path}`);
  const cents = Number(await page.getAttribute("[data-testid=import-preview]", "data-total-cents"));
  await page.click("[data-testid=import-write]");
  await page.waitForSelector(`[data-testid=import-written]:has-text('${lines} achats')`);
  await page.waitForFunction((n) => document.querySelectorAll("[data-testid=purchase-row]").length === n, lines);
  return cents;
}

async function download(page, testid) {
  const [file] = await Promise.all([page.waitForEvent("download"), page.click(`[data-testid=${testid}]`)]);
  const path = await file.path();
  return { path, name: file.suggestedFilename() };
}

export const tests = {
  "the purchases shown, exported as CSV and Excel offline, read back with the same totals here and by the CLI": async () => {
    const server = await Server.start();
    const browser = await launchBrowser();
    try {
      // Two devices loaded while the server runs; both work offline from then on.
      const first = await device(browser, server);
      const second = await device(browser, server);
      await server.stop();
      await first.context.setOffline(true);
      await second.context.setOffline(true);
      const cents = await importFile(first.page, FIXTURE, 8);
      assertEqual(Number(await first.page.getAttribute("[data-testid=purchases-total]", "data-total-cents")), cents, "sum shown");

      const csv = await download(first.page, "export-csv");
      assertEqual(csv.name, "achats-toutes-annees.csv", "CSV file name");
      await first.page.waitForSelector("[data-testid=purchases-export-note]:has-text('8 lignes exportées')");
      const header = readFileSync(csv.path, "utf8").split("\n")[0];
      assertEqual(header, "siret,description,fournisseur,date,prix_ht,famille_produits,categories_egalim,origine,est_circuit_court,est_local,definition_local,definition_local_km", "national header");
      const xlsx = await download(first.page, "export-xlsx");
      assertEqual(xlsx.name, "achats-toutes-annees.xlsx", "Excel file name");
      assertEqual(readFileSync(xlsx.path).subarray(0, 4).toString("hex"), "504b0304", "a zip (XLSX) file");

      // The server's reader finds the same totals in the fixture and in both exports.
      const expected = cliTotals(FIXTURE);
      assertEqual(cliTotals(csv.path), expected, "CLI totals of the CSV export");
      assertEqual(cliTotals(xlsx.path), expected, "CLI totals of the Excel export");

      // Filters narrow the export: one family only (two dairy lines in the fixture).
      await first.page.selectOption("[data-testid=filter-family]", "PRODUITS_LAITIERS");
      await first.page.waitForFunction(() => document.querySelectorAll("[data-testid=purchase-row]").length === 2);
      const shown = 2;
      const narrowed = await download(first.page, "export-csv");
      const lines = readFileSync(narrowed.path, "utf8").trim().split("\n").length - 1;
      assertEqual(lines, shown, "the export holds the lines shown");

      // The workbook imported on a second device: the same lines and sum.
      const again = await importFile(second.page, xlsx.path, 8);
      assertEqual(again, cents, "sum of the workbook imported again");

      // Nothing to export: said in French, no file.
      await second.page.fill("[data-testid=filter-search]", "aucun produit ne s'appelle ainsi");
      await second.page.waitForFunction(() => document.querySelectorAll("[data-testid=purchase-row]").length === 0);
      await second.page.click("[data-testid=export-xlsx]");
      const refusal = await second.page.textContent("[data-testid=purchases-export-error]");
      assert(refusal.includes("Aucun achat à exporter"), `empty export: ${refusal}`);
    } finally {
      await browser.close();
      await server.dispose();
    }
  },

  "the waste measurement of a period, from the day's counts and weighings, in ma cantine's fields": async () => {
    const server = await Server.start();
    const browser = await launchBrowser();
    try {
      const { context, page } = await device(browser, server);
      await server.stop();
      await context.setOffline(true);
      // The site appears in the dashboard once it has purchases.
      await importFile(page, FIXTURE, 8);

      // A service day typed on the kitchen's screen: 120 meals, 3,5 kg of plates, 1,25 kg unserved.
      const day = lastWeekday();
      await page.click('nav.tabs a:has-text("Aujourd")');
      await page.waitForSelector("body[data-ready]");
      await page.fill("#service-date", day);
      const [y, m, d] = day.split("-");
      await page.waitForFunction((fr) => document.querySelector("[data-testid=service-date-fr]")?.textContent === fr, `${d}/${m}/${y}`);
      await page.fill("#planned", "125");
      await page.fill("#served_children", "112");
      await page.fill("#served_adults", "8");
      await page.click("button:has-text('Enregistrer les repas')");
      await page.waitForSelector("[data-testid=saved]:has-text('Repas du')");
      for (const [stage, kg] of [["leftovers", "3,5"], ["unserved", "1,25"]]) {
        const before = await page.locator("li.weighing").count();
        await page.click(`[data-stage=${stage}]`);
        await page.click("[data-component=tout]");
        await page.fill("#mass", kg);
        await page.click("button:has-text('Enregistrer la pesée')");
        await page.waitForFunction((n) => document.querySelectorAll("li.weighing").length > n, before);
      }

      await page.click('nav.tabs a:has-text("EGalim")');
      await page.waitForSelector("[data-testid=dashboard-site]");
      await page.selectOption("[data-testid=dashboard-site]", SIRET);
      // The last seven days by default: the day typed is in them.
      await page.waitForSelector("[data-testid=waste-declaration-values]");
      const value = (name) => page.textContent(`[data-testid=waste-declaration-values] tr[data-field=${name}] td.num`).then((t) => t.replace(/[\u202f\u00a0]/g, " "));
      assertEqual(await value("meal_count"), "120", "covers of the period");
      assertEqual(await value("total_mass"), "4,75 kg", "total mass");
      assertEqual(await value("leftovers_total_mass"), "3,5 kg", "plates");
      assertEqual(await value("unserved_total_mass"), "1,25 kg", "unserved");
      assertEqual(await value("preparation_total_mass"), "non mesuré", "no preparation weighing");
      const warning = await page.textContent("[data-testid=waste-declaration-warning]");
      assert(warning.includes("1 jour(s) de service pesé(s)"), `fewer than five days said: ${warning}`);

      // The JSON object the platform takes.
      const [file] = await Promise.all([page.waitForEvent("download"), page.click("[data-testid=waste-declaration-json]")]);
      const measurement = JSON.parse(readFileSync(await file.path(), "utf8"));
      assertEqual([measurement.meal_count, measurement.total_mass, measurement.leftovers_total_mass, measurement.unserved_total_mass, measurement.preparation_total_mass],
        [120, 4.75, 3.5, 1.25, null], "WasteMeasurement fields");

      // A period that ends before it starts: refused in French, nothing else shown.
      const later = new Date(Date.parse(`${day}T12:00:00Z`) + 86_400_000).toISOString().slice(0, 10);
      await page.fill("#waste-from", later);
      await page.fill("#waste-to", day);
      await page.waitForSelector("[data-testid=waste-declaration-errors]");
      const refusal = (await page.textContent("[data-testid=waste-declaration-errors]")).replace(/[\u202f\u00a0]/g, " ");
      assert(refusal.includes("est avant son début"), `reversed period: ${refusal}`);
      assertEqual(await page.locator("[data-testid=waste-declaration-values]").count(), 0, "no values for a refused period");
    } finally {
      await browser.close();
      await server.dispose();
    }
  },
};
