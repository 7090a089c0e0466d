// Charts and settings against the release build served by the real server binary:
// the site profile survives a reload, charts are drawn from entered data (and told in text),
// and a backup exported from one tablet restores on a new one.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { addWeighing, Server, launchBrowser, openApp, waitForServiceWorker, assert, assertEqual } from "./harness.mjs";

const plain = (s) => (s ?? "").replace(/[\u202f\u00a0]/g, " ");

async function withServer(fn) {
  const server = await Server.start();
  const browser = await launchBrowser();
  try {
    await fn({ server, browser });
  } finally {
    await browser.close();
    await server.dispose();
  }
}

async function newTablet(browser, server, viewport = { width: 800, height: 1280 }) {
  const context = await browser.newContext({ locale: "fr-FR", viewport, acceptDownloads: true });
  const page = await openApp(context, server.url);
  return { context, page };
}

async function go(page, label) {
  await page.click(`nav.tabs a:has-text("${label}")`);
}

async function openSettings(page) {
  await go(page, "Réglages");
  await page.waitForFunction(() => (document.querySelector("#name")?.value ?? "") !== "");
}

/// Saves the day's counts and waits until they are queued for the server (the outbox count
/// goes up). A plausibility warning (a count on a Sunday, when the test runs on one) is
/// confirmed, as a cook would.
async function saveMealCounts(page, planned, children, adults) {
  const pending = () => page.getAttribute("[data-pending]", "data-pending").then(Number);
  const before = await pending();
  await page.fill("#planned", planned);
  await page.fill("#served_children", children);
  await page.fill("#served_adults", adults);
  await page.click("button:has-text('Enregistrer les repas')");
  const confirm = page.locator("form.meal-form button:has-text('Confirmer et enregistrer')");
  await page.waitForFunction(
    (n) => Number(document.querySelector("[data-pending]").dataset.pending) > n || [...document.querySelectorAll("form.meal-form button")].some((b) => b.textContent.includes("Confirmer")),
    before,
  );
  if (await confirm.isVisible()) await confirm.click();
  await page.waitForFunction((n) => Number(document.querySelector("[data-pending]").dataset.pending) > n, before);
}

/// Share of the canvas's pixels that are not white: a drawn chart has lines, bars and text.
async function inkRatio(page, testid) {
  return page.$eval(`[data-testid=${testid}]`, (c) => {
    const { data } = c.getContext("2d").getImageData(0, 0, c.width, c.height);
    let ink = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i] < 200 || data[i + 1] < 200 || data[i + 2] < 200) ink++;
    return ink / (c.width * c.height);
  });
}

/// Records every text the page writes on a canvas from now on (window.__canvasTexts): its
/// canvas, size in CSS pixels and box, to check sizes and overlaps.
// From the next page load on (the charts are the office bundle's: opening them loads a page).
async function recordCanvasTexts(page) {
  await page.addInitScript(() => {
    window.__canvasTexts = [];
    const fillText = CanvasRenderingContext2D.prototype.fillText;
    CanvasRenderingContext2D.prototype.fillText = function (text, x, y, ...rest) {
      const dpr = devicePixelRatio;
      const px = Number(/([\d.]+)px/.exec(this.font)?.[1] ?? 0) / dpr;
      const width = this.measureText(text).width / dpr;
      const left = x / dpr - (this.textAlign === "center" ? width / 2 : this.textAlign === "end" ? width : 0);
      const top = y / dpr - (this.textBaseline === "middle" ? px / 2 : this.textBaseline === "bottom" ? px : 0);
      window.__canvasTexts.push({ canvas: this.canvas.dataset.testid, text, px, left, top, right: left + width, bottom: top + px });
      return fillText.call(this, text, x, y, ...rest);
    };
  });
}

async function draws(page) {
  return Number(await page.getAttribute("[data-testid=charts]", "data-draws"));
}

export const tests = {
  "the site profile and factors saved in Réglages are found after a reload": () =>
    withServer(async ({ server, browser }) => {
      const { page } = await newTablet(browser, server);
      await openSettings(page);
      assertEqual(await page.inputValue("#name"), "Ma cantine", "default profile name");
      await page.fill("#name", "École Jean-Jaurès");
      // A SIRET with a wrong control key is refused in French and kept as typed.
      await page.fill("#siret", "21010034300017");
      await page.fill("#daily_meal_count", "120");
      await page.fill("#yearly_meal_count", "16 800");
      await page.selectOption("#management_type", "conceded");
      await page.selectOption("#production_type", "site_cooked_elsewhere");
      await page.fill("#baseline", "110,5");
      await page.click("button:has-text('Enregistrer le profil')");
      const sirError = plain(await page.textContent("#siret-error"));
      assert(sirError.includes("⚠") && sirError.includes("clé de contrôle"), `SIRET error: ${sirError}`);
      assertEqual(await page.inputValue("#siret"), "21010034300017", "typed SIRET kept");
      assertEqual(await page.getAttribute("#siret", "aria-invalid"), "true", "SIRET marked invalid");
      assertEqual(await page.textContent("[data-testid=profile-saved]"), "", "nothing saved");

      await page.fill("#siret", "210 100 343 00016");
      await page.click("button:has-text('Enregistrer le profil')");
      await page.waitForSelector("[data-testid=profile-saved]:has-text('enregistré')");

      // A factor without source is refused; a valid one is saved.
      await page.fill("#cost_per_kg", "2,9");
      await page.fill("#cost_source", "");
      await page.click("button:has-text('Enregistrer les facteurs')");
      const factorError = plain(await page.textContent("#cost_per_kg-error"));
      assert(factorError.includes("Indiquez la source du facteur"), `factor error: ${factorError}`);
      await page.fill("#cost_source", "Factures de la cuisine, 2026");
      await page.click("button:has-text('Enregistrer les facteurs')");
      await page.waitForSelector("[data-testid=factors-saved]:has-text('enregistrés')");

      await page.reload();
      await page.waitForSelector("body[data-ready]");
      await openSettings(page);
      assertEqual(await page.inputValue("#name"), "École Jean-Jaurès", "name after reload");
      assertEqual(await page.inputValue("#siret"), "21010034300016", "SIRET stored without spaces");
      assertEqual(await page.inputValue("#daily_meal_count"), "120", "meals per day");
      assertEqual(await page.inputValue("#yearly_meal_count"), "16800", "meals per year");
      assertEqual(await page.inputValue("#management_type"), "conceded", "management type");
      assertEqual(await page.inputValue("#production_type"), "site_cooked_elsewhere", "production type");
      assertEqual(await page.inputValue("#baseline"), "110,5", "baseline");
      assertEqual(await page.inputValue("#cost_per_kg"), "2,9", "cost factor");
      assertEqual(await page.inputValue("#cost_source"), "Factures de la cuisine, 2026", "cost source");
      assert((await page.inputValue("#co2_source")).startsWith("ADEME 2016"), "CO2 default source shown");
      const persisted = await page.getAttribute("[data-testid=persisted]", "data-persisted");
      assert(persisted === "oui" || persisted === "non", `persistent storage state shown (${persisted})`);
    }),

  "charts are empty before any entry, then drawn and summarised from the day's data": () =>
    withServer(async ({ server, browser }) => {
      const { page } = await newTablet(browser, server);
      await go(page, "Graphiques");
      await page.waitForSelector("[data-testid=chart-trend-empty]:not(.hidden)");
      assert((await page.textContent("[data-testid=chart-trend-empty]")).includes("Pas encore de données"), "empty message");
      assertEqual(await page.getAttribute("[data-testid=chart-trend]", "data-points"), "0", "no trend point");

      await go(page, "Aujourd'hui");
      await saveMealCounts(page, "130", "118", "6");
      await addWeighing(page, "leftovers", "accompagnement", "6,2");
      await addWeighing(page, "unserved", "platprotidique", "3,1");
      await addWeighing(page, "preparation", "tout", "1,1");

      await recordCanvasTexts(page);
      await go(page, "Graphiques");
      await page.waitForSelector("[data-testid=chart-trend][data-points='1']");
      await page.waitForSelector("[data-testid=chart-stage][data-points='3']");
      await page.waitForSelector("[data-testid=chart-component][data-points='3']");
      await page.waitForSelector("[data-testid=chart-meals][data-points='1']");
      assert(await page.isHidden("[data-testid=chart-trend-empty]"), "empty message hidden once there is data");
      for (const id of ["chart-trend", "chart-stage", "chart-component", "chart-meals"]) {
        const ink = await inkRatio(page, id);
        assert(ink > 0.005, `${id} has drawing on it (${(ink * 100).toFixed(2)} % of pixels)`);
      }
      // Text alternatives: 10,4 kg for 124 meals = 83,9 g → "84 g/repas".
      const trend = plain(await page.textContent("#trend-summary"));
      assert(trend.includes("1 jour mesuré, 84 g/repas en moyenne (10,4 kg pour 124 repas)"), `trend summary: ${trend}`);
      assert(trend.includes("ADEME 2024"), "reference named in the summary");
      const stages = plain(await page.textContent("#stage-summary"));
      // 6,2 / 10,4 = 59,6 %; 3,1 / 10,4 = 29,8 %; 1,1 / 10,4 = 10,6 %
      assertEqual(stages, "Sur 10,4 kg pesés : Restes assiettes 59,6 % (6,2 kg), Présentés non servis 29,8 % (3,1 kg), Excédents de préparation 10,6 % (1,1 kg).", "stage summary");
      const meals = plain(await page.textContent("#meals-summary"));
      assert(meals.startsWith("1 jour compté : 124 repas servis"), `meals summary: ${meals}`);
      assertEqual(await page.getAttribute("[data-testid=chart-trend]", "role"), "img", "canvas exposed as an image");
      // Weighed figures to the tenth of a kg; estimates from the factors marked ≈ with two
      // figures: 10,4 kg × 2,4 €/kg = 24,96 €; × 4 kg CO2e/kg = 41,6 kg; 10,4 ÷ 124 × 14 000 = 1 174,2 kg.
      const figures = plain(await page.textContent("[data-testid=key-figures] dl"));
      for (const f of ["Total pesé10,4 kg", "Coût des denrées≈ 25 €", "Émissions≈ 42 kg CO2e", "Estimation sur l'année≈ 1 174 kg"]) {
        assert(figures.includes(f), `key figures: ${figures} (${f})`);
      }
      assert(plain(await page.textContent("[data-testid=key-figures]")).includes("≈ : estimation"), "≈ explained");
      // Every text on the charts is 14 px or more on a tablet.
      const texts = await page.evaluate(() => window.__canvasTexts);
      assert(texts.length > 20, `canvas texts recorded (${texts.length})`);
      const small = texts.filter((t) => t.px < 14);
      assert(small.length === 0, `canvas texts under 14 px: ${JSON.stringify(small.slice(0, 3))}`);
      assert(texts.some((t) => t.canvas === "chart-stage" && plain(t.text) === "59,6 % · 6,2 kg"), "bar values written on the canvas");
      // The data table opens on demand.
      await page.click("#stage-title ~ details summary");
      // The table is built when the details open: wait for it rather than race the render.
      await page
        .waitForFunction(() => document.querySelectorAll("#stage-title ~ details tbody tr").length >= 3, null, { timeout: 10_000 })
        .catch(() => {});
      const rows = await page.$$eval("#stage-title ~ details tbody tr", (trs) => trs.map((tr) => tr.textContent));
      assertEqual(rows.length, 3, "one row per stage");
      assert(plain(rows[2]).includes("Restes assiettes6,2 kg59,6 %60 %"), `stage row: ${plain(rows[2])}`);

      // Another period redraws.
      const before = await draws(page);
      await page.click("button[data-period='tout']");
      await page.waitForFunction((n) => Number(document.querySelector("[data-testid=charts]").dataset.draws) > n, before);
      assertEqual(await page.getAttribute("[data-testid=charts]", "data-period"), "tout", "period shown");

      // Portrait to landscape: redrawn at the new width, sharp (canvas pixels = CSS width × DPR).
      const widthBefore = await page.$eval("[data-testid=chart-trend]", (c) => c.width);
      const drawsBefore = await draws(page);
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.waitForFunction((n) => Number(document.querySelector("[data-testid=charts]").dataset.draws) > n, drawsBefore);
      const sized = await page.$eval("[data-testid=chart-trend]", (c) => ({
        width: c.width,
        css: c.parentElement.clientWidth,
        dpr: devicePixelRatio,
        height: c.height,
        viewport: innerHeight,
      }));
      assert(sized.width !== widthBefore, `canvas resized (${widthBefore} → ${sized.width})`);
      assertEqual(sized.width, Math.round(sized.css * sized.dpr), "canvas fills its container");
      assert(sized.height / sized.dpr <= sized.viewport * 0.75 + 1, "chart fits a landscape screen");
      assert((await inkRatio(page, "chart-trend")) > 0.005, "trend redrawn after rotation");

      // The site's own baseline appears once set.
      await go(page, "Réglages");
      await page.waitForFunction(() => (document.querySelector("#name")?.value ?? "") !== "");
      // 110 g, 10 g above ADEME's 100 g: their labels once crossed each other's lines.
      await page.fill("#baseline", "110");
      await page.click("button:has-text('Enregistrer le profil')");
      await page.waitForSelector("[data-testid=profile-saved]:has-text('enregistré')");
      await page.evaluate(() => (window.__canvasTexts = []));
      await go(page, "Graphiques");
      await page.waitForFunction(() => document.querySelector("#trend-summary")?.textContent.includes("référence du restaurant, 110"));
      await page.waitForFunction(() => window.__canvasTexts.some((t) => t.text.startsWith("Référence du restaurant")));
      const labels = (await page.evaluate(() => window.__canvasTexts)).filter((t) => /^(ADEME 2024|Référence du restaurant) :/.test(t.text));
      const last = (prefix) => labels.filter((t) => t.text.startsWith(prefix)).at(-1);
      const [ademe, own] = [last("ADEME 2024"), last("Référence du restaurant")];
      assert(ademe && own, `both reference labels written: ${JSON.stringify(labels)}`);
      const apart = ademe.right <= own.left || own.right <= ademe.left || ademe.bottom <= own.top || own.bottom <= ademe.top;
      assert(apart, `reference labels apart: ${JSON.stringify([ademe, own])}`);
      assert(ademe.px >= 14 && own.px >= 14, "reference labels 14 px or more");
    }),

  "a backup exported on one tablet restores on a new one, and a bad file changes nothing": () =>
    withServer(async ({ server, browser }) => {
      const dir = mkdtempSync(join(tmpdir(), "assiette-backup-"));
      try {
        // Both tablets load the app, then work offline: export and import need no server.
        const first = await newTablet(browser, server);
        const second = await newTablet(browser, server);
        await waitForServiceWorker(second.page);
        await server.stop();
        let page = first.page;
        await openSettings(page);
        await page.fill("#name", "Cantine Export");
        await page.click("button:has-text('Enregistrer le profil')");
        await page.waitForSelector("[data-testid=profile-saved]:has-text('enregistré')");
        await go(page, "Aujourd'hui");
        await saveMealCounts(page, "100", "90", "5");
        await addWeighing(page, "leftovers", "dessert", "2,5");
        await addWeighing(page, "unserved", "pain", "0,8");

        await openSettings(page);
        const [download] = await Promise.all([page.waitForEvent("download"), page.click("[data-testid=export]")]);
        const file = join(dir, download.suggestedFilename());
        await download.saveAs(file);
        assert(/^assiette-sauvegarde-cantine-export-\d{4}-\d{2}-\d{2}\.json$/.test(download.suggestedFilename()), `file name ${download.suggestedFilename()}`);
        await page.waitForSelector("[data-testid=export-note]:has-text('Sauvegarde exportée')");
        const backup = JSON.parse(readFileSync(file, "utf8"));
        assertEqual([backup.format, backup.version], ["assiette-sauvegarde", 1], "format and version");
        assertEqual([backup.meal_counts.length, backup.weighings.length, backup.outbox.length], [1, 2, 3], "records and outbox in the file");
        assertEqual(backup.profile.name, "Cantine Export", "profile in the file");

        // A new tablet: the import is checked, shown, then applied.
        page = second.page;
        await openSettings(page);
        const bad = join(dir, "autre.json");
        writeFileSync(bad, JSON.stringify({ format: "autre", version: 1 }));
        await page.setInputFiles("#backup-file", bad);
        await page.waitForSelector("[data-testid=import-error]:has-text('pas une sauvegarde Assiette')");
        // A tampered record: the rest is offered, the record named as left out, and nothing is
        // written before the person confirms.
        const tampered = JSON.parse(JSON.stringify(backup));
        tampered.weighings[1].mass_grams = 0;
        writeFileSync(join(dir, "abime.json"), JSON.stringify(tampered));
        await page.setInputFiles("#backup-file", join(dir, "abime.json"));
        await page.waitForSelector("[data-testid=import-left-out]:has-text('pesée n° 2')");
        await page.waitForSelector("[data-testid=import-confirm]");
        assertEqual(await page.getAttribute("[data-pending]", "data-pending"), "0", "nothing written");
        assertEqual(await page.inputValue("#name"), "Ma cantine", "profile unchanged");

        await page.setInputFiles("#backup-file", file);
        // The good file's plan replaces the tampered one's (nothing left out any more).
        await page.waitForSelector("[data-testid=import-left-out]", { state: "detached" });
        await page.waitForSelector("[data-testid=import-confirm]");
        await page.click("[data-testid=import-confirm-button]");
        await page.waitForSelector("[data-testid=import-note]:has-text('Importé')");
        const note = plain(await page.textContent("[data-testid=import-note]"));
        assert(note.includes("Importé : 1 comptage de repas, 2 pesées, 0 achat"), `import report: ${note}`);
        assert(note.includes("profil du restaurant de la sauvegarde est repris"), `profile adopted: ${note}`);
        assert(note.includes("3 saisies que la tablette d'origine n'avait pas encore envoyées partiront au serveur"), `unsent queued: ${note}`);
        await page.waitForFunction(() => document.querySelector("#name")?.value === "Cantine Export");
        await page.waitForSelector("[data-pending='3']");

        // The same file again: nothing new, nothing duplicated.
        await page.setInputFiles("#backup-file", file);
        await page.waitForSelector("[data-testid=import-confirm]");
        await page.click("[data-testid=import-confirm-button]");
        await page.waitForSelector("[data-testid=import-note]:has-text('Aucune nouvelle saisie')");
        assert(plain(await page.textContent("[data-testid=import-note]")).includes("3 saisies déjà sur cette tablette"), "already present counted");

        await go(page, "Aujourd'hui");
        await page.waitForFunction(() => document.querySelectorAll(".weighing").length === 2);
        assertEqual(await page.inputValue("#served_children"), "90", "meal count restored");
        await page.reload();
        await page.waitForSelector("body[data-ready]");
        await page.waitForFunction(() => document.querySelectorAll(".weighing").length === 2);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
};
