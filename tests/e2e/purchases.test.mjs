// The manager's purchases (office bundle, /bureau/achats) against the release build served by
// the real server binary, offline: three purchases typed (one refused first and kept), found
// with the search and summed, duplicated, deleted with undo, several deleted at once; a national
// file imported (preview, then written), the same file refused as already imported, a bad file
// refused whole with its lines, writing nothing.
import { join } from "node:path";
import { ROOT, Server, launchBrowser, openApp, saveSiteProfile, typePurchase, waitForServiceWorker, waitPending, assert, assertEqual } from "./harness.mjs";

const plain = (s) => (s ?? "").replace(/[\u202f\u00a0]/g, " ");
const FIXTURES = join(ROOT, "crates/domain/tests/fixtures/ma-cantine/achats");
const SIRET = "21010034300016";

async function rows(page) {
  return page.$$eval("[data-testid=purchase-row]", (trs) => trs.length);
}

async function totalCents(page) {
  return Number(await page.getAttribute("[data-testid=purchases-total]", "data-total-cents"));
}

export const tests = {
  "a manager types, corrects, deletes with undo and imports purchases offline": async () => {
    const server = await Server.start();
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext({ locale: "fr-FR", viewport: { width: 1280, height: 900 } });
      const page = await openApp(context, server.url);
      await waitForServiceWorker(page);
      // The site this device works for (the scope until managers sign in): its SIRET.
      await saveSiteProfile(page, "École des Tilleuls", SIRET);

      // Offline from here on.
      await server.stop();
      await context.setOffline(true);
      await page.click('nav.tabs a:has-text("Achats")');
      await page.waitForSelector("[data-testid=purchases-total]");
      assertEqual(await rows(page), 0, "no purchase yet");

      await page.click("[data-testid=new-purchase]");
      // A price with two commas is refused in French; everything typed stays.
      await page.fill("#p-description", "Pommes golden");
      await page.fill("#p-supplier", "Vergers de Caux");
      await page.selectOption("#p-family", "FRUITS_ET_LEGUMES");
      await page.fill("#p-price", "12,3,4");
      await page.click("[data-testid=save-purchase]");
      await page.waitForSelector("[data-testid=purchase-form-refused]");
      const priceError = plain(await page.textContent("#p-price-error"));
      assert(priceError.includes("une seule virgule"), `price error: ${priceError}`);
      assertEqual(await page.inputValue("#p-description"), "Pommes golden", "description kept");
      assertEqual(await page.getAttribute("#p-price", "aria-invalid"), "true", "price marked invalid");
      assertEqual(await rows(page), 0, "nothing saved");

      await typePurchase(page, { description: "Pommes golden", supplier: "Vergers de Caux", family: "FRUITS_ET_LEGUMES", price: "12,50", labels: ["BIO"] });
      // The form is ready for the next line of the same invoice: same supplier, kept.
      assertEqual(await page.inputValue("#p-supplier"), "Vergers de Caux", "supplier kept for the next line");
      await typePurchase(page, { description: "Poulet fermier", supplier: "Volailles Normandes", family: "VIANDES_VOLAILLES", price: "1 234,50", labels: ["LABEL_ROUGE"] });
      await typePurchase(page, { description: "Pommes de terre", supplier: "Vergers de Caux", family: "FRUITS_ET_LEGUMES", price: "80" });
      await page.waitForFunction(() => document.querySelectorAll("[data-testid=purchase-row]").length === 3);
      assertEqual(await totalCents(page), 1250 + 123450 + 8000, "sum of the three");
      const total = plain(await page.textContent("[data-testid=purchases-total]"));
      assert(total.includes("3 lignes") && total.includes("1 327,00 €"), `total: ${total}`);
      // Autocompletion offers the suppliers typed before.
      const suppliers = await page.$$eval("#suppliers option", (os) => os.map((o) => o.value));
      assert(suppliers.includes("Vergers de Caux") && suppliers.includes("Volailles Normandes"), `suggestions: ${suppliers}`);
      await waitPending(page, 3, "three purchases waiting to be sent");

      // Search and filters narrow the lines and the sum.
      await page.fill("[data-testid=filter-search]", "caux");
      await page.waitForFunction(() => document.querySelectorAll("[data-testid=purchase-row]").length === 2);
      assertEqual(await totalCents(page), 1250 + 8000, "sum of the search");
      await page.fill("[data-testid=filter-search]", "");
      await page.selectOption("[data-testid=filter-label]", "LABEL_ROUGE");
      await page.waitForFunction(() => document.querySelectorAll("[data-testid=purchase-row]").length === 1);
      await page.selectOption("[data-testid=filter-label]", "");
      await page.waitForFunction(() => document.querySelectorAll("[data-testid=purchase-row]").length === 3);
      const dates = await page.$$eval("[data-testid=purchase-row] td:nth-child(2)", (tds) => tds.map((t) => t.textContent));
      assert(dates.every((d) => /^\d{2}\/\d{2}\/\d{4}$/.test(d)), `dates dd/mm/yyyy: ${dates}`);

      // Duplicate a line, then delete two lines at once, undo, and delete one.
      await page.click("[data-testid=purchase-row]:has-text('Poulet fermier') button:has-text('Dupliquer')");
      await page.waitForFunction(() => document.querySelectorAll("[data-testid=purchase-row]").length === 4);
      await page.click("[data-testid=save-purchase]"); // the copy's form: saved as is, a correction
      await page.waitForSelector("[data-testid=purchases-note]:has-text('corrigé')");
      const checks = await page.$$("[data-testid=purchase-row] input[type=checkbox]");
      await checks[0].check();
      await checks[1].check();
      await page.click("[data-testid=delete-selected]");
      await page.waitForSelector("[data-testid=undo-banner]:has-text('2 achats supprimés')");
      await page.waitForFunction(() => document.querySelectorAll("[data-testid=purchase-row]").length === 2);
      await page.click("[data-testid=undo]");
      await page.waitForFunction(() => document.querySelectorAll("[data-testid=purchase-row]").length === 4);
      await page.click("[data-testid=purchase-row]:has-text('Pommes de terre') button:has-text('Supprimer')");
      await page.waitForFunction(() => document.querySelectorAll("[data-testid=purchase-row]").length === 3);
      assertEqual(await totalCents(page), 1250 + 2 * 123450, "sum after the deletion");

      // Import a national fixture (dates of 2022: every year shown).
      await page.selectOption("[data-testid=filter-year]", "");
      await page.click("[data-testid=open-import]");
      await page.setInputFiles("#purchase-file", join(FIXTURES, "purchases_good.csv"));
      await page.waitForSelector("[data-testid=import-preview]");
      assertEqual(await page.getAttribute("[data-testid=import-preview]", "data-lines"), "8", "preview lines");
      const preview = plain(await page.textContent("[data-testid=import-preview]"));
      assert(preview.includes("2022") && preview.includes("École des Tilleuls") && preview.includes("€"), `preview: ${preview}`);
      const fileCents = Number(await page.getAttribute("[data-testid=import-preview]", "data-total-cents"));
      await page.click("[data-testid=import-write]");
      await page.waitForSelector("[data-testid=import-written]:has-text('8 achats')");
      await page.waitForFunction(() => document.querySelectorAll("[data-testid=purchase-row]").length === 11);
      assertEqual(await totalCents(page), 1250 + 2 * 123450 + fileCents, "sum with the imported lines");

      // The same file again: nothing added, and said so.
      await page.setInputFiles("#purchase-file", join(FIXTURES, "purchases_good.csv"));
      await page.waitForSelector("[data-testid=import-duplicate]");
      assert(plain(await page.textContent("[data-testid=import-duplicate]")).includes("déjà été importé"), "duplicate said");

      // A bad file: refused whole, every error with its line, nothing written.
      await page.setInputFiles("#purchase-file", join(FIXTURES, "purchases_bad.csv"));
      await page.waitForSelector("[data-testid=import-refused]");
      const errors = await page.$$eval("[data-testid=import-errors] li", (lis) => lis.map((l) => l.textContent));
      assert(errors.length >= 2 && errors.every((e) => /^Ligne \d+/.test(e) || !/^Ligne/.test(e)), `errors: ${errors}`);
      assert(errors.some((e) => e.startsWith("Ligne 2, colonne siret")), `line and column named: ${errors}`);
      assertEqual(await rows(page), 11, "nothing written by the bad file");
      // Everything is on the device, waiting for the server: 3 typed, the copy, 8 imported.
      await waitPending(page, 12, "entries waiting to be sent");

      // After a reload (offline, from the service worker) everything is still there.
      await page.reload();
      await page.waitForSelector("body[data-ready]");
      await page.selectOption("[data-testid=filter-year]", "");
      await page.waitForFunction(() => document.querySelectorAll("[data-testid=purchase-row]").length === 11);
    } finally {
      await browser.close();
      await server.dispose();
    }
  },
};
