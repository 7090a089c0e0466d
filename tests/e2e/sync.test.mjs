// Sync end to end: entries typed while the server is down reach it exactly once, with no click.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Server, api, launchBrowser, pullAll, siret, openApp, waitForServiceWorker, assert, assertEqual, lastWeekday } from "./harness.mjs";

const ADMIN = { email: "admin@example.org", password: "un-mot-de-passe-long" };
const DEMO_CODE = "TEST-DEMX";

/// A second device of the demo site, enrolled with a code the admin issues: { token, device_id, site }.
async function otherDevice(server, label) {
  const { token: admin } = await api(server, "/admin/login", ADMIN);
  const sites = await (await fetch(`${server.url}/api/v1/admin/sites`, { headers: { authorization: `Bearer ${admin}` } })).json();
  const site = (sites.sites ?? sites).find((s) => s.siret === "21760351500008");
  const { code } = await api(server, `/admin/sites/${site.id}/enrolment-codes`, { label }, admin);
  return api(server, "/enrol", { code, label });
}

/// Everything the server holds for the demo site, seen by a second enrolled device.
async function serverRecords(server, device) {
  const { token } = device ?? (await otherDevice(server, "contrôle"));
  return pullAll(server, "/sync/pull", { limit: 500 }, token);
}

async function startServer() {
  return Server.start({
    ASSIETTE_DEMO_ENROLMENT_CODE: DEMO_CODE,
    ASSIETTE_ADMIN_EMAIL: ADMIN.email,
    ASSIETTE_ADMIN_PASSWORD: ADMIN.password,
  });
}


/// Saves a weighing of bread leftovers on « Aujourd'hui » while sync is blocked: one entry waits.
async function weighingLeftWaiting(page) {
  await page.click("a[href='/']");
  await page.fill("#service-date", lastWeekday());
  await page.click("[data-stage=leftovers]");
  await page.click("[data-component=pain]");
  await page.fill("#mass", "0,7");
  await page.click("#save-weighing");
  await page.waitForSelector("[data-pending='1']");
}

async function enrolTablet(page) {
  await page.click("a[href='/synchronisation']");
  await page.fill("#enrol-code", DEMO_CODE.toLowerCase());
  await page.click("button:has-text('Enrôler la tablette')");
  await page.waitForSelector("text=Tablette enrôlée", { timeout: 30_000 });
}

/// A server with the admin account and the demo code, and a tablet enrolled on it.
async function withEnrolledTablet(fn) {
  const server = await startServer();
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ locale: "fr-FR" });
    const page = await openApp(context, server.url);
    await waitForServiceWorker(page);
    await enrolTablet(page);
    return await fn({ server, context, page });
  } finally {
    await browser.close();
    await server.dispose();
  }
}

/// A second canteen of the demo commune and a one-time code for it.
async function otherCanteenCode(server) {
  const { token: admin } = await api(server, "/admin/login", ADMIN);
  const site = await api(
    server,
    "/admin/sites",
    { name: "École des Pins", siret: siret("2176035150009"), commune_insee: "76351", management_type: "direct", production_type: "site", sectors: ["education_primaire"], daily_meal_count: 90, yearly_meal_count: 12600 },
    admin,
  );
  return async () => (await api(server, `/admin/sites/${site.id}/enrolment-codes`, { label: "cuisine" }, admin)).code;
}

async function localWeighingSites(page) {
  return page.evaluate(
    () =>
      new Promise((ok) => {
        const req = indexedDB.open("assiette");
        req.onsuccess = () => {
          const tx = req.result.transaction(["weighings", "outbox"]);
          const w = tx.objectStore("weighings").getAll();
          const o = tx.objectStore("outbox").getAll();
          tx.oncomplete = () => ok({ records: w.result.map((r) => r.site_id), outbox: o.result.map((e) => e.record.site_id) });
        };
      }),
  );
}

/// Purchases written into the tablet's IndexedDB as the app writes them (record + outbox entry,
/// in one transaction), for sizes the screens would never let anyone type.
async function injectPurchases(page, purchases) {
  await page.evaluate(
    (records) =>
      new Promise((ok, ko) => {
        const req = indexedDB.open("assiette");
        req.onsuccess = () => {
          const tx = req.result.transaction(["purchases", "outbox"], "readwrite");
          for (const record of records) {
            // Keyed out of line by their id (schema 3).
            tx.objectStore("purchases").put(record, record.meta.id);
            tx.objectStore("outbox").add({ store: "purchases", record_id: record.meta.id, revision: record.meta.revision, record });
          }
          tx.oncomplete = () => ok();
          tx.onerror = () => ko(tx.error);
        };
      }),
    purchases,
  );
}

export const tests = {
  "changing canteen: refused while the first canteen's entries are unsent, and never moves them": () =>
    withEnrolledTablet(async ({ server, context, page }) => {
      const nextCode = await otherCanteenCode(server);
      // An entry of the first canteen that cannot leave yet.
      await context.route("**/api/v1/sync/**", (route) => route.abort());
      await weighingLeftWaiting(page);
      const before = await localWeighingSites(page);
      await page.click("a[href='/synchronisation']");
      await page.click("#change-site");
      await page.fill("#enrol-code", await nextCode());
      await page.click("button:has-text('Enrôler la tablette')");
      await page.waitForSelector("text=Ce code est celui de « École des Pins »");
      assert((await page.textContent("[data-testid=enrolled-site]")).includes("École des Tilleuls"), "still the first canteen");
      assertEqual(await localWeighingSites(page), before, "the first canteen's entries untouched");
      // Once they are sent, the change goes through and still moves nothing.
      await context.unroute("**/api/v1/sync/**");
      await page.click("#sync-now");
      await page.waitForSelector("[data-pending='0']", { timeout: 30_000 });
      await page.fill("#enrol-code", await nextCode());
      await page.click("button:has-text('Enrôler la tablette')");
      await page.waitForSelector("text=Tablette enrôlée pour « École des Pins »");
      assertEqual((await localWeighingSites(page)).records, before.records, "records keep their canteen");
      assert((await page.textContent("[data-testid=enrolled-site]")).includes("École des Pins"), "now the second canteen");
    }),

  "once enrolled, the tablet shows its canteen instead of the form; offline, « Synchroniser maintenant » says the entries stay": () =>
    withEnrolledTablet(async ({ server, context, page }) => {
      assert((await page.textContent("[data-testid=enrolled-site]")).includes("École des Tilleuls"), "enrolled canteen shown");
      assertEqual(await page.isVisible("#enrol-code"), false, "enrolment form hidden once enrolled");
      await page.click("#change-site");
      assertEqual(await page.isVisible("#enrol-code"), true, "« Changer de restaurant » shows the form");
      await page.click("button:has-text('Annuler')");
      assertEqual(await page.isVisible("#enrol-code"), false, "hidden again");
      await server.stop();
      await context.setOffline(true);
      await page.waitForSelector("[data-testid=connection][data-connection=offline]");
      await page.click("#sync-now");
      await page.waitForSelector("text=Pas de réseau : les saisies restent sur la tablette");
    }),

  "entries typed while the server is down are on the server exactly once after it comes back, with no click": () =>
    withEnrolledTablet(async ({ server, page }) => {
      await server.stop();
      await page.click("a[href='/']");
      await page.fill("#service-date", lastWeekday());
      await page.fill("#planned", "100");
      await page.fill("#served_children", "95");
      await page.fill("#served_adults", "5");
      await page.click("button:has-text('Enregistrer les repas')");
      await page.waitForSelector("[data-testid=saved]:has-text('Repas du')");
      for (const [stage, kg] of [["leftovers", "3,5"], ["unserved", "1,25"], ["preparation", "0,4"]]) {
        await page.click(`[data-stage=${stage}]`);
        await page.click("[data-component=tout]");
        await page.fill("#mass", kg);
        const before = await page.locator("li.weighing").count();
        await page.click("button:has-text('Enregistrer la pesée')");
        await page.waitForFunction((n) => document.querySelectorAll("li.weighing").length > n, before);
      }
      await page.waitForSelector("[data-pending='4']");

      await server.start();
      // No click: the engine's timer (backoff ≤ a few tens of seconds here) does it.
      await page.waitForSelector("[data-pending='0']", { timeout: 120_000 });

      const records = await serverRecords(server);
      const ids = records.map((r) => r.meta.id);
      assertEqual(new Set(ids).size, ids.length, "no record twice on the server");
      const weighings = records.filter((r) => r.kind === "weighing");
      const counts = records.filter((r) => r.kind === "meal_count");
      assertEqual(weighings.map((w) => w.mass_grams).sort((a, b) => a - b), [400, 1250, 3500], "weighings on the server");
      assertEqual(counts.map((c) => c.served_children), [95], "meal count on the server");
      assert(counts[0].site_id === weighings[0].site_id, "records stamped with the enrolled site");
    }),

  "two tablets correcting the same weighing: the conflict is listed « à vérifier » and « Renvoyer ma version » wins it": () =>
    withEnrolledTablet(async ({ server, context, page }) => {
      // The other tablet weighs 1 kg; this one receives it.
      const other = await otherDevice(server, "tablette B");
      const date = lastWeekday();
      const now = new Date().toISOString();
      const weighing = (revision, grams) => ({
        kind: "weighing",
        meta: { id: "0190a000-0000-7000-8000-00000000c0f1", revision, deleted: false, modified_at: now },
        site_id: other.site.id,
        service_date: date,
        stage: "leftovers",
        component: "dessert",
        mass_grams: grams,
      });
      await api(server, "/sync/push", { device_id: other.device_id, mutations: [{ seq: 1, record: weighing(1, 1000) }] }, other.token);
      await page.click("button:has-text('Synchroniser maintenant')");
      await page.waitForSelector("[data-testid=sync-state]:has-text('Tout est envoyé')");
      await page.click("a[href='/']");
      await page.fill("#service-date", date);
      await page.waitForFunction(() => document.querySelector(".weighing .mass")?.textContent.replace(/\u202f/g, " ") === "1 kg");

      // Both correct it while this tablet cannot reach the server.
      await context.route("**/api/v1/sync/**", (route) => route.abort());
      await page.click(".weighing button:has-text('Modifier')");
      await page.fill("#mass", "1,5");
      await page.click("#save-weighing");
      await page.waitForSelector("[data-pending='1']");
      const second = await api(server, "/sync/push", { device_id: other.device_id, mutations: [{ seq: 2, record: weighing(2, 3000) }] }, other.token);
      assertEqual(second.results.map((r) => r.status), ["applied"], "the other tablet's correction is applied first");

      await context.unroute("**/api/v1/sync/**");
      await page.click("a[href='/synchronisation']");
      await page.click("button:has-text('Synchroniser maintenant')");
      const item = page.locator("[data-testid=review-item]");
      await item.waitFor({ timeout: 30_000 });
      const listed = (await item.textContent()).replace(/[\u00a0\u202f]/g, " ");
      assert(listed.includes("Conflit") && listed.includes("une autre tablette"), `conflict listed, with where the other came from: ${listed}`);
      assert(listed.includes(": 3 kg (révision 2)") && listed.includes("Votre version : Restes assiettes – Dessert, fruit : 1,5 kg"), `both values shown: ${listed}`);
      await page.waitForSelector("[data-pending='1']");

      await item.locator("button:has-text('Renvoyer ma version')").click();
      await page.waitForSelector("[data-pending='0']", { timeout: 60_000 });
      await page.waitForSelector("text=Rien à vérifier.");
      const records = (await serverRecords(server, other)).filter((r) => r.meta.id === weighing(1, 0).meta.id);
      const latest = records.reduce((a, b) => (b.meta.revision > a.meta.revision ? b : a));
      assertEqual([latest.meta.revision, latest.mass_grams], [3, 1500], "the tablet's version, as a new revision, on the server");
    }),
  "a national file imported on the tablet reaches the server, each line once, a line corrected before as its correction": () =>
    withEnrolledTablet(async ({ server, context, page }) => {
      // 2,345 lines: several packed outbox entries (1,000 lines each), unpacked across push
      // batches (500) by the sync.
      const lines = 2345;
      const head = "siret,description,fournisseur,date,prix_ht,famille_produits,categories_egalim,origine,est_circuit_court,est_local,definition_local,definition_local_km";
      const body = Array.from({ length: lines }, (_, i) => `21760351500008,Ligne ${i + 1},Fournisseur ${i % 17},2025-0${1 + (i % 9)}-1${i % 10},${1 + (i % 400)}.${String(i % 100).padStart(2, "0")},AUTRES,"BIO",FRANCE,,,,`);
      const dir = mkdtempSync(join(tmpdir(), "assiette-e2e-import-"));
      const file = join(dir, "achats.csv");
      writeFileSync(file, [head, ...body].join("\n") + "\n");
      try {
        // The server unreachable while importing and correcting: nothing leaves before the
        // sync below.
        await context.route("**/api/v1/sync/**", (route) => route.abort());
        await page.goto(`${server.url}/bureau/reglages`);
        await page.waitForFunction(() => (document.querySelector("#name")?.value ?? "") !== "");
        await page.fill("#siret", "21760351500008");
        await page.click("button:has-text('Enregistrer le profil')");
        await page.waitForSelector("[data-testid=profile-saved]:has-text('enregistré')");
        await page.click('nav.tabs a:has-text("Achats")');
        await page.click("[data-testid=open-import]");
        await page.setInputFiles("#purchase-file", file);
        await page.waitForSelector("[data-testid=import-preview]", { timeout: 60_000 });
        await page.click("[data-testid=import-write]");
        await page.waitForSelector("[data-testid=import-written]", { timeout: 60_000 });
        await page.waitForSelector(`[data-pending='${lines}']`);
        // One imported line corrected before it was ever sent: still one entry to send.
        await page.selectOption("[data-testid=filter-year]", "");
        await page.fill("[data-testid=filter-search]", "Ligne 7");
        const row = page.locator("[data-testid=purchase-row]", { hasText: /Ligne 7(?!\d)/ });
        await row.locator("button:has-text('Modifier')").click();
        await page.fill("#p-description", "Ligne 7 corrigée");
        await page.click("[data-testid=save-purchase]");
        await page.waitForSelector("[data-testid=purchase-row]:has-text('Ligne 7 corrigée')");
        await page.waitForSelector(`[data-pending='${lines}']`);
        await context.unroute("**/api/v1/sync/**");
        await page.goto(`${server.url}/synchronisation`);
        await page.click("#sync-now");
        await page.waitForSelector("[data-pending='0']", { timeout: 120_000 });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const onServer = (await serverRecords(server)).filter((r) => r.kind === "purchase");
      assertEqual(onServer.length, lines, "every line on the server once");
      assertEqual(new Set(onServer.map((r) => r.meta.id)).size, lines, "distinct ids");
      const names = new Set(onServer.map((r) => r.description));
      assert(names.has("Ligne 7 corrigée") && !names.has("Ligne 7"), "the corrected line as corrected");
      assert(names.has("Ligne 1") && names.has(`Ligne ${lines}`), "first and last lines");
    }),

  "an entry too large for the server goes alone and is set aside « à vérifier »: the entries around it reach the server": () =>
    withEnrolledTablet(async ({ server, page }) => {
      const now = new Date().toISOString();
      const purchase = (n, description) => ({
        meta: { id: `0190a000-0000-7000-8000-00000000b00${n}`, revision: 1, deleted: false, modified_at: now },
        siret: "21760351500008",
        description,
        fournisseur: "Ferme des Hauts",
        date: lastWeekday(),
        prix_ht_cents: 1250 + n,
        famille_produits: "FRUITS_ET_LEGUMES",
        caracteristiques: ["BIO"],
      });
      // Together over the server's 2 MB: the middle one alone is.
      await injectPurchases(page, [purchase(1, "Pommes"), purchase(2, "x".repeat(2_200_000)), purchase(3, "Poires")]);
      await page.click("a[href='/']");
      await page.click("a[href='/synchronisation']");
      await page.click("#sync-now");
      const item = page.locator("[data-testid=review-item]");
      await item.waitFor({ timeout: 60_000 });
      const listed = await item.textContent();
      assert(listed.includes("Trop volumineuse : le serveur refuse de la recevoir"), `French reason: ${listed.slice(0, 300)}`);
      await page.waitForSelector("[data-pending='1']");
      const onServer = (await serverRecords(server)).filter((r) => r.kind === "purchase");
      assertEqual(onServer.map((p) => p.description).sort(), ["Poires", "Pommes"], "the two others are on the server");
      // The next run sends nothing again: the entry waits for a person.
      await page.click("#sync-now");
      await page.waitForSelector("[data-testid=sync-state]:has-text('1 saisie à envoyer')");
      assertEqual((await page.locator("[data-testid=review-item]").count()), 1, "one entry to review");
    }),

  "a push that fails still pulls: the other tablet's weighing arrives while this tablet's entry waits": () =>
    withEnrolledTablet(async ({ server, context, page }) => {
      const other = await otherDevice(server, "tablette B");
      const record = {
        kind: "weighing",
        meta: { id: "0190a000-0000-7000-8000-00000000c0f2", revision: 1, deleted: false, modified_at: new Date().toISOString() },
        site_id: other.site.id,
        service_date: lastWeekday(),
        stage: "leftovers",
        component: "dessert",
        mass_grams: 2000,
      };
      await api(server, "/sync/push", { device_id: other.device_id, mutations: [{ seq: 1, record }] }, other.token);
      // Only the push fails; this tablet has an entry to send.
      await context.route("**/api/v1/sync/push", (route) => route.abort());
      await weighingLeftWaiting(page);
      await page.click("a[href='/synchronisation']");
      await page.click("#sync-now");
      await page.waitForFunction(
        (id) =>
          new Promise((ok) => {
            const req = indexedDB.open("assiette");
            req.onsuccess = () => {
              const get = req.result.transaction("weighings").objectStore("weighings").get(id);
              get.onsuccess = () => ok(get.result?.mass_grams === 2000);
            };
          }),
        record.meta.id,
        { timeout: 30_000, polling: 250 },
      );
      await page.waitForSelector("text=Serveur injoignable");
      await page.waitForSelector("[data-pending='1']");
    }),
};
