// A new commune manager in delegated management, end to end, against the release build served
// by the real server binary: the metropolis creates the commune, its site and the invitation
// through the API; the manager accepts it in the app, fills the contract (refused first: dates
// reversed, a SIREN failing its check; the form kept), goes offline, ticks steps and writes a
// proof note, reloads offline (kept), imports the caterer's national file, sees what the
// contract promised against the shares the lines show (equal to `assiette-server egalim` on
// the same file), the quarter missing and the next deadline, types the caterer's waste
// figures as a weighing of the site and sees its g/meal beside the contract's target;
// meanwhile the metropolis ticked
// another step: once online both sets of ticks are on the server and on the screen. The
// pathway prints on A4 (Chromium's PDF, non-empty) and the clause checklist downloads as a
// document a word processor opens. The metropolis then sees the commune in its overview (step,
// next deadline, data), writes its follow-up note, which reaches the server, and edits the
// commune's contract from there.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SERVER_BIN, api, axe, openApp, pullAll, waitForServiceWorker, withMetropolis, assert, assertEqual } from "./harness.mjs";

const ADMIN = { email: "admin@example.org", password: "un-mot-de-passe-long" };
const MANAGER = { email: "mairie@montivilliers.fr", password: "Cantine-Montivilliers-2026" };
const INSEE = "76447";
const SIRET = "21010034300016";
const plain = (s) => (s ?? "").replace(/[\u202f\u00a0]/g, " ").replace(/\s+/g, " ");

const pullCommuneRecords = (server, token) => pullAll(server, "/concession/pull", { limit: 100 }, token);

/// Every record the server holds for the site, pulled with a metropolis session.
const siteRecords = (server, siteId, token) => pullAll(server, "/sync/pull", { site_id: siteId, limit: 500 }, token);

/// Share in hundredths of a percent rounded half-even, written as the page writes it (« 40,00 % »).
function shareText(part, total) {
  const n = part * 10000n;
  let q = n / total;
  const r = n - q * total;
  if (2n * r > total || (2n * r === total && q % 2n === 1n)) q += 1n;
  return `${q / 100n},${String(q % 100n).padStart(2, "0")} %`;
}
const cents = (s) => BigInt(s.replace(".", ""));

async function state(page, testid) {
  return page.getAttribute(`[data-testid=${testid}]`, "data-state");
}

async function waitState(page, testid, wanted) {
  try {
    await page.waitForFunction(([t, w]) => document.querySelector(`[data-testid=${t}]`)?.dataset.state === w, [testid, wanted], { timeout: 20_000 });
  } catch {
    assertEqual(await state(page, testid), wanted, `${testid}`);
  }
}

export const tests = {
  "a commune manager follows the caterer's contract offline, imports its file and prints the pathway": () =>
    withMetropolis({ admin: ADMIN }, async ({ server, browser, token: admin, commune, site: addSite, invite, tmp }) => {
      await commune(INSEE, "Montivilliers");
      const site = await addSite("École Jules Ferry", SIRET, INSEE, { management: "conceded" });
      const code = await invite(MANAGER.email, [INSEE]);

      const context = await browser.newContext({ locale: "fr-FR", viewport: { width: 1280, height: 900 } });
      const page = await openApp(context, `${server.url}/bureau/connexion?invitation=${encodeURIComponent(code)}`);
      if (process.env.E2E_CONSOLE) page.on("console", (m) => console.error(`  [console] ${m.text().slice(0, 800)}`));
      await waitForServiceWorker(page);
      await page.fill("#new-password", MANAGER.password);
      await page.fill("#new-password-again", MANAGER.password);
      await page.click("[data-testid=accept-invitation]");
      await page.waitForSelector(`[data-testid=signed-in][data-email='${MANAGER.email}']`, { timeout: 30_000 });

      // The contract: refused first (dates reversed, SIREN failing its check), the form kept.
      await page.click('nav.tabs a:has-text("Gestion concédée")');
      await page.waitForSelector("form.contract-form");
      await page.fill("#c-caterer", "Restauration Normande SAS");
      await page.fill("#c-siren", "732829321");
      await page.selectOption("#c-type", "dsp");
      await page.fill("#c-start", "01/09/2024");
      await page.fill("#c-end", "31/08/2023");
      await page.fill("#c-egalim", "55");
      await page.fill("#c-organic", "25");
      await page.fill("#c-waste", "80");
      await page.click("[data-testid=contract-save]");
      await page.waitForSelector("#c-end-error:has-text('doit être après sa date de début')");
      assert(plain(await page.textContent("#c-siren-error")).includes("clé de contrôle"), "the SIREN's check is explained");
      assertEqual(await page.inputValue("#c-caterer"), "Restauration Normande SAS", "the form is kept on refusal");
      assertEqual(await page.inputValue("#c-end"), "31/08/2023", "the refused value stays to be corrected");
      assertEqual(await page.$("[data-testid=contract-summary]"), null, "nothing saved");
      assertEqual(await axe(page), [], "axe on the refused contract form");
      await page.fill("#c-siren", "732829320");
      await page.fill("#c-end", "31/08/2028");
      await page.click("[data-testid=contract-save]");
      await page.waitForSelector("[data-testid=contract-summary]");
      await waitState(page, "contract-state", "sent");
      const onServer = await pullCommuneRecords(server, admin);
      const contract = onServer.find((r) => r.kind === "catering_contract");
      assertEqual([contract.caterer_siren, contract.end_date, contract.targets.egalim_percent, contract.site_sirets], ["732829320", "2028-08-31", 55, [SIRET]], "the contract on the server");

      // Offline: two checkpoints ticked and a proof note, kept across a reload.
      await context.setOffline(true);
      // (Clicks, then a wait: each tick redraws the pathway from what was saved.)
      await page.click("[data-checkpoint=liste-restaurants]");
      await waitState(page, "checklist-state", "pending");
      await page.waitForFunction(() => document.querySelector("[data-checkpoint=liste-restaurants]")?.checked);
      await page.click("[data-checkpoint=contrat-identifie]");
      await page.waitForFunction(() => document.querySelector("[data-checkpoint=contrat-identifie]")?.checked);
      await page.fill("#n-text-diagnostic", "Copie du contrat rangée au secrétariat");
      await page.fill("#n-date-diagnostic", "15/09/2024");
      await page.fill("#n-ref-diagnostic", "contrat-restauration-2024.pdf");
      await page.click("article[data-step=diagnostic] .note-form button[type=submit]");
      await page.waitForSelector("article[data-step=diagnostic] .notes li:has-text('contrat-restauration-2024.pdf')");
      await page.reload();
      await page.waitForSelector("body[data-ready]");
      await page.waitForSelector("article[data-step=diagnostic]");
      assert(await page.isChecked("[data-checkpoint=liste-restaurants]"), "the tick is kept offline across a reload");
      assert(await page.isChecked("[data-checkpoint=contrat-identifie]"), "both ticks kept");
      assert(plain(await page.textContent("article[data-step=diagnostic] [data-testid=step-count]")).startsWith("2 points vérifiés sur "), "the step's progress");
      assertEqual(await state(page, "checklist-state"), "pending", "waiting for the server");

      // Meanwhile the metropolis ticks another checkpoint of the same commune.
      const elsewhere = { kind: "checklist", meta: { id: "0190f000-0000-7000-8000-000000000001", revision: 1, modified_at: new Date().toISOString() }, commune_insee_code: INSEE, progress: { steps: { diagnostic: { ticks: { "derniere-declaration": { done: true, at: new Date().toISOString(), author: "00000000-0000-0000-0000-000000000000" } } } } } };
      const pushed = await api(server, "/concession/push", { records: [elsewhere] }, admin);
      assertEqual(pushed.results[0].status, "applied", "the metropolis' tick");

      // The caterer's file, imported offline in « Achats »: this year's lines, none in the third quarter.
      const year = new Date().getFullYear();
      const csv = [
        "siret,description,fournisseur,date,prix_ht,famille_produits,categories_egalim,origine,est_circuit_court,est_local,definition_local,definition_local_km",
        `${SIRET},Yaourts bio,Laiterie de Caux,${year}-01-15,100.00,PRODUITS_LAITIERS,BIO,,,,,`,
        `${SIRET},Poulet Label rouge,Volailles Normandes,${year}-02-03,100.00,VIANDES_VOLAILLES,LABEL_ROUGE,,,,,`,
        `${SIRET},Pâtes,Grossiste,${year}-04-10,200.00,AUTRES,,,,,,`,
        `${SIRET},Pommes,Vergers,${year}-05-20,100.00,FRUITS_ET_LEGUMES,,,,,,`,
      ].join("\n");
      const file = join(tmp, "achats-prestataire.csv");
      writeFileSync(file, `${csv}\n`);
      await page.click('nav.tabs a:has-text("Achats")');
      await page.waitForSelector("[data-testid=purchases-total]");
      await page.click("[data-testid=open-import]");
      await page.setInputFiles("#purchase-file", file);
      await page.waitForSelector("[data-testid=import-preview]");
      await page.click("[data-testid=import-write]");
      await page.waitForSelector("[data-testid=import-written]:has-text('4 achats')");

      // Promised against measured, equal to the command's totals on the same file.
      await page.click('nav.tabs a:has-text("Gestion concédée")');
      await page.waitForSelector("[data-testid=promised-vs-actual]");
      const [t] = JSON.parse(execFileSync(SERVER_BIN, ["egalim", file], { encoding: "utf8" })).sites;
      const egalim = cents(t.valeur_bio) + cents(t.valeur_siqo) + cents(t.valeur_egalim_autres) + cents(t.valeur_externalites_performance);
      const egalimRow = plain(await page.textContent("[data-testid=promised-vs-actual] tr[data-share=egalim]"));
      const bioRow = plain(await page.textContent("[data-testid=promised-vs-actual] tr[data-share=bio]"));
      assertEqual(egalimRow, `EGalim (bio compris)55 %${shareText(egalim, cents(t.valeur_totale))}✗ non tenu`, "EGalim promised vs actual");
      assertEqual(bioRow, `Bio25 %${shareText(cents(t.valeur_bio), cents(t.valeur_totale))}✗ non tenu`, "organic promised vs actual");
      assert(egalimRow.includes("40,00 %") && bioRow.includes("20,00 %"), "the shares of this file");
      const coverage = await page.$$eval("[data-testid=coverage] tbody td.covered", (tds) => tds.length);
      assertEqual(coverage, 4, "four months covered");
      assert(plain(await page.textContent("[data-testid=last-file]")).startsWith("Dernier fichier reçu : le "), "the last file's date");
      const today = new Date();
      const q3due = new Date(year, 9, 31);
      if (today > q3due) {
        assert(plain(await page.textContent("[data-testid=missing-quarters]")).includes(`3e trimestre ${year} manquant (attendu avant le 31/10/${year})`), "the missing quarter is flagged");
      }
      const next = plain(await page.textContent("[data-testid=next-deadline]"));
      const m = next.match(/Prochaine échéance : (\d\d)\/(\d\d)\/(\d{4}) : .+, (dans \d+ jours|demain|aujourd'hui)/);
      assert(m, `the next deadline: ${next}`);
      const nextDate = new Date(Number(m[3]), Number(m[2]) - 1, Number(m[1]));
      assert(nextDate >= new Date(today.getFullYear(), today.getMonth(), today.getDate()), "the next deadline is not past");

      // The caterer's waste figures, typed offline as the site's weighings: refused first (a
      // date in the future, a mass that is not one), the form kept; then 7,5 kg of plate
      // leftovers for 100 meals: 75 g/meal beside the 80 g promised.
      assertEqual(plain(await page.textContent("[data-testid=waste-measured]")), "non renseigné", "no weighing yet");
      const fr = (d) => `${String(d.getDate()).padStart(2, "0")}/${String(d.getMonth() + 1).padStart(2, "0")}/${d.getFullYear()}`;
      const tomorrow = new Date(today.getFullYear(), today.getMonth(), today.getDate() + 1);
      await page.fill("#w-date", fr(tomorrow));
      await page.fill("#w-meals", "100");
      await page.selectOption("#w-stage", "leftovers");
      await page.fill("#w-kg", "sept");
      await page.click("[data-testid=weighing-save]");
      await page.waitForSelector("#w-kg-error:has-text('⚠')");
      assertEqual(plain(await page.textContent("[data-testid=weighing-saved]")), "", "nothing said saved on refusal");
      assertEqual(await page.inputValue("#w-meals"), "100", "the form is kept on refusal");
      await page.fill("#w-kg", "7,5");
      await page.click("[data-testid=weighing-save]");
      await page.waitForSelector("#w-date-error:has-text('dans le futur')");
      assertEqual(plain(await page.textContent("#w-kg-error")), "", "the mass is read now");
      assertEqual(await page.inputValue("#w-kg"), "7,5", "the mass kept while the date is corrected");
      await page.fill("#w-date", fr(today));
      await page.click("[data-testid=weighing-save]");
      await page.waitForSelector("[data-testid=weighing-saved]:has-text('enregistrée')");
      assert(plain(await page.textContent("[data-testid=weighing-saved]")).includes("Restes assiettes 7,5 kg, 100 repas"), "what was saved");
      await page.waitForFunction(() => document.querySelector("[data-testid=waste-measured]")?.textContent.includes("75"), null, { timeout: 10_000 });
      const wasteRow = plain(await page.textContent("[data-testid=waste-vs-target] tr[data-share=waste]"));
      assertEqual(wasteRow, "Par repas80 g/repas75 g/repas (1 jour(s) pesé(s), 100 repas)✓ tenu", "measured waste beside the target");
      const local = await page.evaluate(() => new Promise((ok, ko) => {
        const req = indexedDB.open("assiette");
        req.onerror = () => ko(req.error);
        req.onsuccess = () => {
          const tx = req.result.transaction(["weighings", "meal_counts"]);
          const w = tx.objectStore("weighings").getAll();
          const m = tx.objectStore("meal_counts").getAll();
          tx.oncomplete = () => { ok([w.result.length, m.result.length]); req.result.close(); };
        };
      }));
      assertEqual(local, [1, 1], "one weighing and one meal count on the device");

      // Online: the offline ticks reach the server, merged with the metropolis' tick.
      await context.setOffline(false);
      await page.evaluate(() => window.dispatchEvent(new Event("online")));
      await waitState(page, "checklist-state", "sent");
      await page.waitForFunction(() => document.querySelector("[data-checkpoint=derniere-declaration]")?.checked, null, { timeout: 20_000 });
      const checklist = (await pullCommuneRecords(server, admin)).find((r) => r.kind === "checklist");
      const ticks = checklist.progress.steps.diagnostic.ticks;
      assertEqual(Object.keys(ticks).filter((k) => ticks[k].done).sort(), ["contrat-identifie", "derniere-declaration", "liste-restaurants"], "both people's ticks on the server");
      // The caterer's weighing and its meal count reach the server once, for the site.
      let records = [];
      for (let i = 0; i < 80; i++) {
        records = await siteRecords(server, site.id, admin);
        if (records.some((r) => r.kind === "weighing") && records.some((r) => r.kind === "meal_count")) break;
        await new Promise((ok) => setTimeout(ok, 250));
      }
      const weighings = records.filter((r) => r.kind === "weighing");
      assertEqual(weighings.map((w) => [w.mass_grams, w.stage, w.site_id]), [[7500, "leftovers", site.id]], "the weighing on the server, once");
      assertEqual(records.filter((r) => r.kind === "meal_count").map((c) => [c.served_children + c.served_adults, c.site_id]), [[100, site.id]], "the meal count on the server, once");
      assertEqual(checklist.progress.steps.diagnostic.notes.map((n) => [n.text, n.proof_date, n.reference]), [["Copie du contrat rangée au secrétariat", "2024-09-15", "contrat-restauration-2024.pdf"]], "the note on the server");
      assertEqual(await axe(page), [], "axe on « Gestion concédée »");

      // Printed on A4: the navigation and forms left out, a non-empty PDF.
      await page.emulateMedia({ media: "print" });
      assertEqual(await page.isVisible("nav.tabs"), false, "no navigation on paper");
      assertEqual(await page.isVisible("form.note-form"), false, "no forms on paper");
      assert(await page.isVisible("[data-testid=contract-summary]"), "the contract summary is printed");
      await page.emulateMedia({ media: "screen" });
      const pdf = await page.pdf({ format: "A4", printBackground: false });
      assert(pdf.length > 10_000 && pdf.subarray(0, 5).toString() === "%PDF-", `a PDF of ${pdf.length} bytes`);

      // The clause checklist as a document to edit.
      const [download] = await Promise.all([page.waitForEvent("download"), page.click("[data-testid=clauses]")]);
      assertEqual(download.suggestedFilename(), `clauses-appel-offres-${INSEE}.html`, "the document's name");
      const doc = readFileSync(await download.path(), "utf8");
      assert(doc.startsWith("<!DOCTYPE html>") && doc.includes("Montivilliers") && doc.includes("<li>☐ "), "the clauses, to tick");
      assert(doc.includes("Restauration Normande SAS (SIREN 732829320), du 01/09/2024 au 31/08/2028"), "the current contract recalled");

      // The metropolis' overview: the commune, its step, its next deadline, its data; a follow-up note.
      const metro = await browser.newContext({ locale: "fr-FR", viewport: { width: 1280, height: 900 } });
      const mp = await openApp(metro, `${server.url}/bureau/connexion`);
      await mp.fill("#email", ADMIN.email);
      await mp.fill("#password", ADMIN.password);
      await mp.click("[data-testid=sign-in]");
      await mp.waitForSelector(`[data-testid=signed-in][data-email='${ADMIN.email}']`, { timeout: 30_000 });
      await mp.goto(`${server.url}/bureau/communes-concedees`);
      await mp.waitForSelector("body[data-ready]");
      const row = `[data-testid=overview] tr[data-insee='${INSEE}']`;
      await mp.waitForSelector(row, { timeout: 20_000 });
      await mp.waitForFunction((r) => document.querySelector(r)?.textContent.includes("1 restaurant(s) sur 1 avec des achats"), row, { timeout: 20_000 });
      const rowText = plain(await mp.textContent(row));
      assert(rowText.includes("Montivilliers (76447)") && rowText.includes("1. Faire l'état des lieux"), `the commune and its step: ${rowText}`);
      assert(rowText.includes(m[0].replace("Prochaine échéance : ", "").split(" : ")[0]), `the same next deadline: ${rowText}`);
      await mp.fill(`#o-note-${INSEE}`, "Rendez-vous avec la mairie le 12/01 : préparer le renouvellement");
      await mp.click(`${row} button[type=submit]`);
      await mp.waitForSelector(`${row} [data-testid=note-state][data-state=sent]`, { timeout: 20_000 });
      let note;
      for (let i = 0; i < 40 && !note; i++) {
        note = (await pullCommuneRecords(server, admin)).find((r) => r.kind === "follow_up_note");
        if (!note) await new Promise((ok) => setTimeout(ok, 250));
      }
      assertEqual(note?.text, "Rendez-vous avec la mairie le 12/01 : préparer le renouvellement", "the follow-up note on the server");
      assertEqual(await axe(mp), [], "axe on the metropolis' overview");

      // The metropolis edits the commune's contract in the app (from the overview's link): the
      // waste target lowered to 70 g/meal reaches the server as the contract's next revision.
      await mp.click(`${row} a[href*='gestion-concedee?commune=${INSEE}']`);
      await mp.waitForSelector("[data-testid=contract-summary]", { timeout: 20_000 });
      assert(plain(await mp.textContent("[data-testid=contract-summary]")).includes("Restauration Normande SAS"), "the manager's contract, on the metropolis' screen");
      await mp.click("[data-testid=contract-edit]");
      assertEqual(await mp.inputValue("#c-waste"), "80", "the contract's values in the form");
      await mp.fill("#c-waste", "70");
      await mp.click("[data-testid=contract-save]");
      // The summary and its « envoyé » of the previous revision are on screen before the save
      // commits: wait for the server to hold the new revision.
      let revised;
      for (let i = 0; i < 80; i++) {
        revised = (await pullCommuneRecords(server, admin)).find((r) => r.kind === "catering_contract");
        if (revised.meta.revision > contract.meta.revision) break;
        await new Promise((ok) => setTimeout(ok, 250));
      }
      await waitState(mp, "contract-state", "sent");
      assertEqual([revised.meta.id, revised.meta.revision > contract.meta.revision, revised.targets.waste_grams_per_meal, revised.commune_insee_code], [contract.meta.id, true, 70, INSEE], "the metropolis' revision on the server");
    }),
};
