// The Today screen against the release build served by the real server binary.
import { addWeighing, Server, launchBrowser, openApp, waitForServiceWorker, assert, assertEqual, lastWeekday } from "./harness.mjs";

async function withApp(fn) {
  const server = await Server.start();
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ locale: "fr-FR", viewport: { width: 800, height: 1280 } });
    const page = await openApp(context, server.url);
    await fn({ server, browser, context, page });
  } finally {
    await browser.close();
    await server.dispose();
  }
}

const SERVICE_DAY = lastWeekday();

async function chooseServiceDay(page) {
  await page.fill("#service-date", SERVICE_DAY);
  const [y, m, d] = SERVICE_DAY.split("-");
  await page.waitForSelector(`[data-testid=service-date-fr]:has-text('${d}/${m}/${y}')`);
}

async function saveMealCounts(page, planned, children, adults) {
  await page.fill("#planned", planned);
  await page.fill("#served_children", children);
  await page.fill("#served_adults", adults);
  await page.click("button:has-text('Enregistrer les repas')");
  await page.waitForSelector("[data-testid=saved]:has-text('Repas du')");
}

export const tests = {
  "a value saved through the IndexedDB storage layer is found after a reload": () =>
    withApp(async ({ page }) => {
      await chooseServiceDay(page);
      await saveMealCounts(page, "120", "112", "8");
      await page.waitForSelector("[data-pending='1']");
      await page.reload();
      await page.waitForSelector("body[data-ready]");
      await chooseServiceDay(page);
      await page.waitForFunction(() => document.querySelector("#served_children")?.value === "112");
      assertEqual(await page.inputValue("#planned"), "120", "planned after reload");
      assertEqual(await page.inputValue("#served_adults"), "8", "adults after reload");
      // It is in IndexedDB itself, with its outbox entry.
      const stored = await page.evaluate(
        () =>
          new Promise((ok, ko) => {
            const req = indexedDB.open("assiette");
            req.onsuccess = () => {
              const tx = req.result.transaction(["meal_counts", "outbox"]);
              const counts = tx.objectStore("meal_counts").getAll();
              const outbox = tx.objectStore("outbox").getAll();
              tx.oncomplete = () => ok({ counts: counts.result, outbox: outbox.result });
              tx.onerror = () => ko(tx.error);
            };
            req.onerror = () => ko(req.error);
          }),
      );
      assertEqual(stored.counts.map((c) => c.served_children), [112], "stored counts");
      assertEqual(stored.outbox.map((e) => e.store), ["meal_counts"], "outbox entries");
    }),

  "offline: a day's counts and five weighings survive a reload served by the service worker": () =>
    withApp(async ({ server, page }) => {
      await waitForServiceWorker(page);
      await server.stop();
      await chooseServiceDay(page);
      await saveMealCounts(page, "130", "118", "6");
      const entries = [
        ["preparation", "accompagnement", "1,2"],
        ["unserved", "platprotidique", "3.4"],
        ["leftovers", "entree", "2,75"],
        ["leftovers", "dessert", "0,5"],
        ["leftovers", "tout", "4"],
      ];
      for (const [stage, component, kg] of entries) await addWeighing(page, stage, component, kg);
      await page.reload();
      await page.waitForSelector("body[data-ready]");
      await chooseServiceDay(page);
      await page.waitForFunction(() => document.querySelectorAll(".weighing").length === 5);
      const masses = await page.$$eval(".weighing .mass", (els) => els.map((e) => e.textContent.replace(/\u202f/g, " ")));
      assertEqual(masses, ["1,2 kg", "3,4 kg", "2,75 kg", "0,5 kg", "4 kg"], "masses after offline reload");
      assertEqual(await page.inputValue("#served_children"), "118", "children after offline reload");
      // 11,85 kg for 124 meals = 95,6 g → "96 g/repas"
      const gpm = (await page.textContent("[data-testid=grams-per-meal]")).replace(/\u202f/g, " ");
      assert(/^96 g\/repas$/.test(gpm), `g/meal shown: ${gpm}`);
      assertEqual(await page.getAttribute("[data-pending]", "data-pending"), "6", "entries waiting for the server");
    }),

  "a bad value shows its French error and keeps what was typed": () =>
    withApp(async ({ page }) => {
      await chooseServiceDay(page);
      await page.click("[data-stage=leftovers]");
      await page.click("[data-component=pain]");
      await page.fill("#mass", "12,5,3");
      await page.click("button:has-text('Enregistrer la pesée')");
      const error = await page.textContent("#mass-error");
      assert(error.includes("⚠") && /kg|nombre|virgule/i.test(error), `French error shown: ${error}`);
      assertEqual(await page.inputValue("#mass"), "12,5,3", "typed value kept");
      assertEqual(await page.getAttribute("#mass", "aria-invalid"), "true", "field marked invalid");
      assertEqual(await page.$$eval(".weighing", (e) => e.length), 0, "nothing saved");
      // A plausible-but-large value asks for confirmation instead of refusing.
      await page.fill("#mass", "150");
      await page.click("button:has-text('Enregistrer la pesée')");
      await page.waitForSelector(".warnings");
      await page.click("button:has-text('Confirmer et enregistrer')");
      await page.waitForFunction(() => document.querySelectorAll(".weighing").length === 1);
    }),

  "a weighing half typed is still there after a reload, and goes once saved": () =>
    withApp(async ({ page }) => {
      await chooseServiceDay(page);
      await page.click("[data-stage=unserved]");
      await page.click("[data-component=accompagnement]");
      await page.fill("#mass", "2,3");
      await page.reload();
      await page.waitForSelector("body[data-ready]");
      await chooseServiceDay(page);
      await page.waitForSelector("[data-stage=unserved][aria-pressed=true]");
      await page.waitForSelector("[data-component=accompagnement][aria-pressed=true]");
      assertEqual(await page.inputValue("#mass"), "2,3", "mass kept");
      await page.click("#save-weighing");
      await page.waitForSelector("[data-testid=last-saved]:has-text('2,3')");
      await page.reload();
      await page.waitForSelector("body[data-ready]");
      await chooseServiceDay(page);
      await page.waitForFunction(() => document.querySelectorAll(".weighing").length === 1);
      assertEqual(await page.inputValue("#mass"), "", "no draft left once saved");
      assertEqual(await page.$$eval("[data-component][aria-pressed=true]", (e) => e.length), 0, "component cleared");
    }),

  "entries are counted once however often corrected: header, settings and backup agree": () =>
    withApp(async ({ page }) => {
      await chooseServiceDay(page);
      await addWeighing(page, "leftovers", "dessert", "1");
      await page.click("[data-action=edit-last]");
      await page.fill("#mass", "1,2");
      await page.click("#save-weighing");
      await page.waitForSelector("[data-testid=last-saved]:has-text('1,2')");
      await addWeighing(page, "leftovers", "pain", "0,3");
      // Three changes of two entries.
      await page.waitForSelector("[data-pending='2']");
      assert((await page.textContent("[data-testid=sync-status]")).includes("2 saisies à envoyer"), "header counts entries");
      await page.click("nav.tabs a[href='/bureau/reglages']");
      await page.waitForSelector("text=2 saisies n'ont pas encore été envoyées au serveur.");
      const [download] = await Promise.all([page.waitForEvent("download"), page.click("[data-testid=export]")]);
      await download.path();
      const note = (await page.textContent("[data-testid=export-note]")).replace(/[\u00a0\u202f]/g, " ");
      assert(note.includes("(2 saisies, dont 2 pas encore envoyées)"), `backup note counts the same unit: ${note}`);
    }),

  "deleting a weighing can be undone": () =>
    withApp(async ({ page }) => {
      await chooseServiceDay(page);
      await addWeighing(page, "leftovers", "dessert", "2");
      await page.click(".weighing button:has-text('Supprimer')");
      await page.waitForFunction(() => document.querySelectorAll(".weighing").length === 0);
      await page.click("button:has-text('Annuler la suppression')");
      await page.waitForFunction(() => document.querySelectorAll(".weighing").length === 1);
      // Correct it: a new revision of the same record.
      await page.click(".weighing button:has-text('Modifier')");
      assertEqual(await page.inputValue("#mass"), "2", "mass loaded for correction");
      await page.fill("#mass", "2,4");
      await page.click("button:has-text('Enregistrer la correction')");
      await page.waitForFunction(() => document.querySelector(".weighing .mass")?.textContent.replace(/\u202f/g, " ") === "2,4 kg");
    }),

  "two tabs open at once: both tabs' entries are kept, each queued once": () =>
    withApp(async ({ context, page, server }) => {
      const other = await context.newPage();
      await other.goto(server.url);
      await other.waitForSelector("body[data-ready]");
      await chooseServiceDay(page);
      await chooseServiceDay(other);
      // Interleaved saves from both tabs.
      await addWeighing(page, "leftovers", "entree", "1");
      await addWeighing(other, "unserved", "pain", "2");
      await addWeighing(page, "leftovers", "dessert", "3");
      await addWeighing(other, "preparation", "accompagnement", "4");
      for (const p of [page, other]) {
        await p.reload();
        await p.waitForSelector("body[data-ready]");
        await chooseServiceDay(p);
        await p.waitForFunction(() => document.querySelectorAll(".weighing").length === 4);
      }
      const outbox = await page.evaluate(
        () =>
          new Promise((ok, ko) => {
            const req = indexedDB.open("assiette");
            req.onsuccess = () => {
              const all = req.result.transaction("outbox").objectStore("outbox").getAll();
              all.onsuccess = () => ok(all.result.map((e) => [e.seq, e.record.mass_grams]));
              all.onerror = () => ko(all.error);
            };
          }),
      );
      assertEqual(outbox.map(([, g]) => g), [1000, 2000, 3000, 4000], "one outbox entry per save, in order");
      assertEqual(new Set(outbox.map(([seq]) => seq)).size, 4, "distinct device sequence numbers");
    }),

  "two windows correcting the same weighing: the second sees both values, and where the other came from": () =>
    withApp(async ({ context, page, server }) => {
      const other = await context.newPage();
      await other.goto(server.url);
      await other.waitForSelector("body[data-ready]");
      await chooseServiceDay(page);
      await addWeighing(page, "leftovers", "dessert", "0,4");
      await chooseServiceDay(other);
      await other.waitForFunction(() => document.querySelectorAll(".weighing").length === 1);
      // Both windows open the weighing for correction; A saves 0,5 first.
      await page.click(".weighing [data-action=edit]");
      await other.click(".weighing [data-action=edit]");
      await page.fill("#mass", "0,5");
      await page.click("#save-weighing");
      await page.waitForSelector("[data-testid=last-saved]:has-text('0,5')");
      // B, still on the old copy, types 0,6: nothing is saved, both versions are shown.
      await other.fill("#mass", "0,6");
      await other.click("#save-weighing");
      await other.waitForSelector("[data-testid=conflict]");
      const plain = (s) => s.replace(/[\u00a0\u202f]/g, " ");
      assert(plain(await other.textContent("[data-testid=conflict]")).includes("dans une autre fenêtre de cette tablette"), "says where the other came from");
      assert(plain(await other.textContent("[data-testid=conflict-other]")).includes("0,5 kg"), "the other value");
      assert(plain(await other.textContent("[data-testid=conflict-mine]")).includes("0,6 kg"), "my value");
      assertEqual(await other.$$eval("[data-testid=saved]", (els) => els.map((e) => e.textContent).join("")), "", "nothing said saved");
      const stored = () =>
        other.evaluate(
          () =>
            new Promise((ok) => {
              const req = indexedDB.open("assiette");
              req.onsuccess = () => {
                const all = req.result.transaction("weighings").objectStore("weighings").getAll();
                all.onsuccess = () => ok(all.result.map((w) => [w.mass_grams, w.meta.revision]));
              };
            }),
        );
      assertEqual(await stored(), [[500, 2]], "A's correction stays until B chooses");
      // B keeps its own: a new revision above A's.
      await other.click("[data-action=keep-mine]");
      await other.waitForSelector("[data-testid=last-saved]:has-text('0,6')");
      assertEqual(await stored(), [[600, 3]], "B's value, on top of A's");
      // A re-reads when B writes: its list shows 0,6 without a reload.
      await page.waitForFunction(() => document.querySelector(".weighing .mass")?.textContent.replace(/[\u00a0\u202f]/g, " ") === "0,6 kg");
    }),

  "offline: the header says so in words, beside the entries to send": () =>
    withApp(async ({ context, page, server }) => {
      await waitForServiceWorker(page);
      await page.waitForSelector("[data-testid=connection][data-connection=online]");
      assert((await page.textContent("[data-testid=connection]")).includes("En ligne"), "online shown in words");
      await server.stop();
      await context.setOffline(true);
      await page.waitForSelector("[data-testid=connection][data-connection=offline]");
      assert((await page.textContent("[data-testid=connection]")).includes("Hors ligne"), "offline shown in words");
      await chooseServiceDay(page);
      await addWeighing(page, "leftovers", "pain", "1");
      await page.waitForSelector("[data-pending='1']");
      await context.setOffline(false);
      await page.waitForSelector("[data-testid=connection][data-connection=online]");
    }),

  "accessibility: French page, labelled inputs, touch targets of at least 48 px": () =>
    withApp(async ({ page }) => {
      assertEqual(await page.getAttribute("html", "lang"), "fr", "page language");
      const unlabelled = await page.$$eval("input, select, textarea", (els) =>
        els.filter((e) => !(e.labels && e.labels.length) && !e.getAttribute("aria-label")).map((e) => e.outerHTML),
      );
      assertEqual(unlabelled, [], "inputs without a label");
      const small = await page.$$eval("button, a, input, select", (els) =>
        els
          .filter((e) => e.offsetParent !== null)
          .map((e) => ({ html: e.outerHTML.slice(0, 80), r: e.getBoundingClientRect() }))
          .filter(({ r }) => r.width < 48 || r.height < 48)
          .map(({ html, r }) => `${html} ${r.width}x${r.height}`),
      );
      assertEqual(small, [], "touch targets under 48 px");
    }),
};
