// The metropolis' project officer, end to end (issue 13), against the release build served by
// the real server binary: the metropolis creates two communes and three sites through the API
// and pushes a few days of meal counts and weighings for two of them; the officer signs in on
// the territory bundle (/territoire/), sees the overview (a site without data shows
// « non renseigné », never 0), sorts it by g per meal both ways (missing figures last), reads it
// offline from the stored answer (« données du … »), opens a commune, prints its page (a
// non-empty A4 PDF), and downloads the overview as XLSX, read back here.
import { readFileSync } from "node:fs";
import { api, axe, signInTerritory, siret, withMetropolis, assert, assertEqual } from "./harness.mjs";
import { readFirstSheet } from "./xlsx.mjs";

const ADMIN = { email: "chargee@metropole.example.org", password: "un-mot-de-passe-long" };
const plain = (s) => (s ?? "").replace(/[\u202f\u00a0]/g, " ").trim();

/// The last `n` school days (Monday, Tuesday, Thursday, Friday) before today, as yyyy-mm-dd.
function lastSchoolDays(n) {
  const out = [];
  const d = new Date();
  const pad = (x) => String(x).padStart(2, "0");
  while (out.length < n) {
    d.setDate(d.getDate() - 1);
    if ([1, 2, 4, 5].includes(d.getDay())) out.push(`${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`);
  }
  return out;
}

let ids = 0;
const uuid = () => `0192f0c1-8c9e-7b1a-9a55-${(++ids).toString(16).padStart(12, "0")}`;
const meta = () => ({ id: uuid(), revision: 1, modified_at: new Date().toISOString() });

/// Meal counts and leftovers weighings of `days` for a site: `grams` per day for `meals` meals.
function dayRecords(siteId, days, meals, grams) {
  return days.flatMap((day) => [
    { kind: "meal_count", meta: meta(), site_id: siteId, service_date: day, planned: meals, served_children: meals, served_adults: 0 },
    { kind: "weighing", meta: meta(), site_id: siteId, service_date: day, stage: "leftovers", mass_grams: grams },
  ]);
}

async function rowNames(page) {
  return page.$$eval("[data-testid=overview-table] [data-testid=site-row]", (rows) => rows.map((r) => r.dataset.site));
}

export const tests = {
  "the officer signs in, sorts the overview, reads it offline, prints a commune's page and reads the XLSX back": () =>
    // No demo commune: the territory is the two communes made here.
    withMetropolis({ admin: ADMIN, demo: false }, async ({ server, browser, token, commune, site }) => {
      await commune("76351", "Le Havre");
      await commune("76305", "Gonfreville-l'Orcher");
      const a = await site("École Anatole France", siret("2176035120001"), "76351", { daily: 100 });
      const b = await site("École Bléville", siret("2176035120002"), "76351", { daily: 120, management: "conceded" });
      await site("École Jules Ferry", siret("2176030530001"), "76305", { daily: 150 });
      // Three school days: 60 g per meal at Anatole France, 100 g at Bléville, nothing at Jules Ferry.
      const days = lastSchoolDays(3);
      const { client_id } = await api(server, "/account/clients", { label: "test e2e" }, token);
      const records = [...dayRecords(a.id, days, 100, 6000), ...dayRecords(b.id, days, 120, 12000)];
      const pushed = await api(server, "/sync/push", { device_id: client_id, mutations: records.map((record, i) => ({ seq: i + 1, record })) }, token);
      assertEqual(pushed.results.map((r) => r.status), records.map(() => "applied"), "every record applied");

      const { context, page } = await signInTerritory(browser, server, ADMIN, { acceptDownloads: true });
      await page.waitForSelector("[data-testid=overview-table] [data-testid=site-row]", { timeout: 30_000 });
      assertEqual((await rowNames(page)).length, 3, "every site of the territory");
      assert(plain(await page.textContent("[data-testid=signed-in]")).includes("(toutes les communes)"), "the metropolis' scope is said");
      const gpm = async () =>
        page.$$eval("[data-testid=overview-table] [data-testid=site-row]", (rows) =>
          Object.fromEntries(rows.map((r) => [r.dataset.site, r.querySelector("[data-testid=gpm]").textContent])),
        );
      const figures = await gpm();
      assertEqual(plain(figures["École Anatole France"]), "60 g/repas", "g per meal of a measured site");
      assertEqual(plain(figures["École Bléville"]), "100 g/repas", "g per meal of the other");
      assertEqual(plain(figures["École Jules Ferry"]), "non renseigné", "a site without data: missing, never 0");
      // Only the plates were weighed: the other stages are missing, never 0 g.
      const stages = await page.$eval("[data-testid=overview-table] [data-testid=site-row][data-site='École Anatole France']", (row) =>
        ["preparation", "unserved", "leftovers"].map((s) => row.querySelector(`[data-testid=stage-${s}]`).textContent),
      );
      assertEqual(stages.map(plain), ["non renseigné", "non renseigné", "60 g/repas"], "stages never weighed read as missing");
      assert(plain(await page.textContent("[data-testid=figures-period]")).includes("Gaspillage du "), "the figures say their period");
      assert((await page.textContent(".sources")).includes("ADEME"), "the figures name their sources");
      assertEqual(await axe(page), [], "axe on the overview");

      // Sorted by g per meal, both ways; the missing figure stays last.
      await page.click("[data-testid=sort-grams_per_meal]");
      await page.waitForSelector("[data-testid=overview-table][data-sort=grams_per_meal][data-desc=false]");
      assertEqual(await rowNames(page), ["École Anatole France", "École Bléville", "École Jules Ferry"], "ascending g per meal");
      await page.click("[data-testid=sort-grams_per_meal]");
      await page.waitForSelector("[data-testid=overview-table][data-desc=true]");
      assertEqual(await rowNames(page), ["École Bléville", "École Anatole France", "École Jules Ferry"], "descending g per meal");
      // Filtered: the conceded site only, with the filtered totals.
      await page.selectOption("[data-testid=filter-management]", "conceded");
      await page.waitForFunction(() => document.querySelectorAll("[data-testid=overview-table] [data-testid=site-row]").length === 1);
      assertEqual(plain(await page.textContent("[data-testid=total-gpm]")), "100 g/repas", "totals of the filtered sites");
      await page.selectOption("[data-testid=filter-management]", "");

      // Offline: the stored answer, with its age.
      await context.setOffline(true);
      await page.reload();
      await page.waitForSelector("[data-testid=freshness][data-stale=true]", { timeout: 30_000 });
      assert(/Hors ligne : données du \d\d\/\d\d\/\d{4} à \d\d:\d\d/.test(plain(await page.textContent("[data-testid=freshness]"))), "offline: the stored figures and their date");
      assertEqual((await rowNames(page)).length, 3, "offline: every site from the stored answer");
      await context.setOffline(false);
      await page.reload();
      await page.waitForSelector("[data-testid=freshness][data-stale=false]", { timeout: 30_000 });

      // A commune's page, printed on A4.
      await page.click("[data-testid=site-row][data-site='École Bléville'] [data-testid=commune-link]");
      await page.waitForSelector("[data-testid=commune-name]:has-text('Le Havre')", { timeout: 30_000 });
      assertEqual(await page.$$eval("[data-testid=commune-site]", (r) => r.length), 2, "the commune's two sites");
      await page.waitForSelector("[data-testid=commune-trend]:not([data-points=''])");
      assertEqual(await axe(page), [], "axe on the commune page");
      const pdf = await page.pdf({ format: "A4", printBackground: true });
      assert(pdf.length > 1000 && pdf.subarray(0, 5).toString() === "%PDF-", `a PDF is produced (${pdf.length} bytes)`);
      await page.emulateMedia({ media: "print" });
      assert(!(await page.isVisible("[data-testid=print]")), "the print button is not printed");
      await page.emulateMedia({ media: "screen" });

      // The overview as XLSX, written by the server and read back here.
      await page.click("a[href='/territoire/']");
      await page.waitForSelector("[data-testid=overview-table] [data-testid=site-row]");
      const [download] = await Promise.all([page.waitForEvent("download"), page.click("[data-testid=overview-download-xlsx]")]);
      const path = await download.path();
      assert(download.suggestedFilename().endsWith(".xlsx"), `an .xlsx file (${download.suggestedFilename()})`);
      const rows = readFirstSheet(readFileSync(path));
      const texts = rows.flat().filter((v) => typeof v === "string");
      for (const name of ["École Anatole France", "École Bléville", "École Jules Ferry"]) assert(texts.includes(name), `the workbook lists ${name}`);
      const bleville = rows.find((r) => r.includes("École Bléville"));
      assert(bleville.some((v) => typeof v === "number" && Math.abs(v - 100) < 0.01), `Bléville's 100 g per meal is a number in the workbook: ${JSON.stringify(bleville)}`);
    }),
};
