// A kitchen day on the Today screen, as a cook does it, in Chromium (portrait and landscape),
// Firefox ESR and WebKit: the day's counts, twelve weighings across the three stages with two
// corrections, a warning corrected before confirming, one sorted weighing with a destination,
// a draft kept across a reload, an empty count refused. Every stored value must be what was
// typed last; the taps for the counts and the first five weighings are counted; axe-core
// checks every screen.
import { Server, assert, assertEqual, lastWeekday } from "./harness.mjs";
import { openEngine } from "./engines.mjs";

const PORTRAIT = { width: 800, height: 1280 };
const LANDSCAPE = { width: 1280, height: 800 };
/// The goal for the day's counts and five weighings (issue « the weighing rhythm »).
const TAP_GOAL = 25;

const SERVICE_DAY = lastWeekday();

/// The twelve weighings, in the order they are typed: [stage, component (DOM code), kg].
const WEIGHINGS = [
  ["preparation", "entree", "1,2"],
  ["preparation", "platprotidique", "2,5"],
  ["preparation", "accompagnement", "3,1"],
  ["preparation", "tout", "0,8"],
  ["unserved", "entree", "15"], // typed 150 first: the warning, then corrected to 15
  ["unserved", "dessert", "4,2"], // then sorted: 4 kg edible, given away
  ["unserved", "pain", "0,9"],
  ["unserved", "produitlaitier", "1,1"], // corrected at once to 1,3
  ["leftovers", "entree", "2,75"],
  ["leftovers", "platprotidique", "3,4"],
  ["leftovers", "dessert", "0,5"],
  ["leftovers", "tout", "5"],
];

/// What IndexedDB must hold at the end, in creation order.
const EXPECTED = [
  ["preparation", "entree", 1200],
  ["preparation", "plat_protidique", 2500],
  ["preparation", "accompagnement", 3600], // corrected from the list: 3,1 → 3,6
  ["preparation", null, 800],
  ["unserved", "entree", 15000],
  ["unserved", "dessert", 4200, { edible_grams: 4000, inedible_grams: 200 }, "don"],
  ["unserved", "pain", 900],
  ["unserved", "produit_laitier", 1300],
  ["leftovers", "entree", 2750],
  ["leftovers", "plat_protidique", 3400],
  ["leftovers", "dessert", 500],
  ["leftovers", null, 5000],
].map(([stage, component, mass_grams, sorted = null, destination = null]) => ({ stage, component, mass_grams, sorted, destination }));

const plain = (s) => String(s ?? "").replace(/[\u00a0\u202f]/g, " ");

async function chooseServiceDay(page) {
  await page.fill("#service-date", SERVICE_DAY);
  const [y, m, d] = SERVICE_DAY.split("-");
  await page.waitForFunction((fr) => document.querySelector("[data-testid=service-date-fr]")?.textContent === fr, `${d}/${m}/${y}`);
}

/// Waits until the « last weighing » panel names this mass (the save has committed).
async function waitSaved(page, kg) {
  await page.waitForFunction(
    (kg) => (document.querySelector("[data-testid=last-saved]")?.textContent || "").replace(/[\u00a0\u202f]/g, " ").includes(`: ${kg} kg`),
    kg,
  );
}

async function storedDay(page) {
  return page.evaluate(
    () =>
      new Promise((ok, ko) => {
        const req = indexedDB.open("assiette");
        req.onsuccess = () => {
          const tx = req.result.transaction(["meal_counts", "weighings"]);
          const counts = tx.objectStore("meal_counts").getAll();
          const weighings = tx.objectStore("weighings").getAll();
          tx.oncomplete = () => {
            req.result.close();
            ok({ counts: counts.result, weighings: weighings.result });
          };
          tx.onerror = () => ko(String(tx.error));
        };
        req.onerror = () => ko(String(req.error));
      }),
  );
}

/// Records the page's Content-Security-Policy violations (the server sends a strict policy:
/// an inline style or script the app adds would be refused in the kitchen, silently).
async function watchCsp(page) {
  await page.evaluate(() => {
    window.__csp = window.__csp || [];
    document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(`${e.violatedDirective} ${e.sample || ""}`));
  });
}

/// axe-core on the screen shown: no violation at all, and no CSP violation so far.
async function checkAccessibility(page, screen) {
  assertEqual(await page.evaluate(() => window.__csp || []), [], `${page.name}: Content-Security-Policy violations up to ${screen}`);
  const violations = await page.axe();
  const text = violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  assertEqual(text, [], `${page.name}: axe-core violations on ${screen}`);
}

/// Every part of the « Nouvelle pesée » card, its save button included, is in the viewport.
async function checkWeighingCardInView(page, label) {
  const box = await page.evaluate(() => {
    window.scrollTo(0, 0);
    const card = document.getElementById("weighing-card").getBoundingClientRect();
    const button = document.getElementById("save-weighing").getBoundingClientRect();
    return { top: card.top, bottom: card.bottom, button: button.bottom, height: window.innerHeight, width: window.innerWidth };
  });
  assert(box.top >= 0 && box.bottom <= box.height && box.button <= box.height, `${label}: « Nouvelle pesée » card within ${box.width}×${box.height} without scrolling (card ${Math.round(box.top)}–${Math.round(box.bottom)} px, button bottom ${Math.round(box.button)} px)`);
}

async function kitchenDay(engine, viewport) {
  const label = `${engine} ${viewport.width}×${viewport.height}`;
  const server = await Server.start();
  const page = await openEngine(engine, { viewport, locale: "fr-FR" });
  try {
    await page.goto(server.url);
    await page.waitFor("body[data-ready]", { timeout: 30_000 });
    await watchCsp(page);
    await chooseServiceDay(page);
    await checkWeighingCardInView(page, label);
    await checkAccessibility(page, "Aujourd'hui (vide)");

    // The counts and the first five weighings, tap by tap (a field typed in is one tap).
    page.taps = 0;
    let fills = 0;
    const fill = async (selector, text) => {
      await page.fill(selector, text);
      fills++;
    };
    let stageShown = null;
    const weigh = async ([stage, component, kg]) => {
      if (stageShown !== stage) await page.click(`[data-stage=${stage}]`);
      stageShown = stage;
      await page.click(`[data-component=${component}]`);
      await fill("#mass", kg);
      await page.click("#save-weighing");
    };
    await fill("#planned", "130");
    await fill("#served_children", "121");
    await fill("#served_adults", "7");
    // A weighing saved before the counts: what is typed in the counts stays.
    await weigh(WEIGHINGS[0]);
    await waitSaved(page, WEIGHINGS[0][2]);
    assertEqual([await page.value("#planned"), await page.value("#served_children"), await page.value("#served_adults")], ["130", "121", "7"], `${label}: counts typed and not saved yet are kept`);
    await page.click("#save-counts");
    await page.waitForFunction(() => (document.querySelector(".meal-card [data-testid=saved]")?.textContent || "").includes("enregistrés"));
    for (const w of WEIGHINGS.slice(1, 4)) {
      await weigh(w);
      await waitSaved(page, w[2]);
    }
    // The fifth: 150 is typed, the > 100 kg warning shows, the cook corrects to 15 before
    // confirming: the warning closes and 15 is what is saved.
    await page.click("[data-stage=unserved]");
    stageShown = "unserved";
    await page.click("[data-component=entree]");
    await fill("#mass", "150");
    await page.click("#save-weighing");
    await page.waitFor(".weighing-card .warnings");
    await fill("#mass", "15");
    await page.waitForFunction(() => !document.querySelector(".weighing-card .warnings") && document.getElementById("save-weighing").textContent.includes("Enregistrer la pesée"));
    await page.click("#save-weighing");
    await waitSaved(page, "15");
    const taps = page.taps + fills;
    console.log(`  ${label}: ${taps} taps for the day's counts and five weighings (${page.taps} buttons, ${fills} fields; goal ≤ ${TAP_GOAL})`);
    assert(taps <= TAP_GOAL, `${label}: ${taps} taps for counts + 5 weighings, goal ≤ ${TAP_GOAL}`);

    // After a save the stage stays and the component is cleared.
    assertEqual(await page.evaluate(() => document.querySelector("[data-stage=unserved]").getAttribute("aria-pressed")), "true", `${label}: stage kept after a save`);
    assertEqual(await page.evaluate(() => document.querySelectorAll("[data-component][aria-pressed=true]").length), 0, `${label}: component cleared after a save`);

    // Sixth, then sorted and given away through the optional second step.
    await weigh(WEIGHINGS[5]);
    await waitSaved(page, "4,2");
    await page.click("[data-action=sort-last]");
    await fill("#edible", "4");
    await page.click("[data-destination=donation]");
    await page.click("#save-weighing");
    await page.waitForFunction(() => [...document.querySelectorAll(".weighing .what")].some((e) => e.textContent.includes("Don")));
    for (const w of WEIGHINGS.slice(6, 8)) {
      await weigh(w);
      await waitSaved(page, w[2]);
    }
    // Corrected at once from the « last weighing » panel.
    await page.click("[data-action=edit-last]");
    assertEqual(await page.value("#mass"), "1,1", `${label}: last weighing loaded for correction`);
    await fill("#mass", "1,3");
    await page.click("#save-weighing");
    await waitSaved(page, "1,3");
    stageShown = "unserved";
    for (const w of WEIGHINGS.slice(8)) {
      await weigh(w);
      await waitSaved(page, w[2]);
    }
    // Corrected later from the day's list (third weighing: 3,1 → 3,6).
    await page.click(".weighings li.weighing:nth-child(3) [data-action=edit]");
    assertEqual(await page.value("#mass"), "3,1", `${label}: listed weighing loaded for correction`);
    await fill("#mass", "3,6");
    await page.click("#save-weighing");
    await waitSaved(page, "3,6");
    await checkAccessibility(page, "Aujourd'hui (douze pesées)");

    // An empty count is « not entered »: refused with a French message, nothing changes.
    await fill("#served_children", "");
    await page.click("#save-counts");
    const error = plain(await page.text("#served_children-error"));
    assert(error.includes("non saisi"), `${label}: empty count refused: ${error}`);
    await checkAccessibility(page, "Aujourd'hui (erreur de saisie)");
    // A draft survives a reload, and « Annuler les modifications » brings the stored value back.
    await fill("#planned", "140");
    await page.reload();
    await page.waitFor("body[data-ready]", { timeout: 30_000 });
    await watchCsp(page);
    await chooseServiceDay(page);
    await page.waitForFunction(() => document.querySelectorAll(".weighing").length === 12);
    assertEqual(await page.value("#planned"), "140", `${label}: unsaved count kept across a reload`);
    assertEqual(await page.value("#served_children"), "", `${label}: the emptied field stays as typed`);
    await page.click("#cancel-counts");
    await page.waitForFunction(() => document.querySelector("#planned").value === "130" && document.querySelector("#served_children").value === "121");

    // Every stored value is what was typed last.
    const stored = await storedDay(page);
    const live = stored.weighings.filter((w) => !w.meta.deleted).sort((a, b) => (a.meta.id < b.meta.id ? -1 : 1));
    assertEqual(
      live.map((w) => ({ stage: w.stage, component: w.component ?? null, mass_grams: w.mass_grams, sorted: w.sorted ?? null, destination: w.destination ?? null })),
      EXPECTED,
      `${label}: stored weighings`,
    );
    assertEqual(live.map((w) => w.service_date), EXPECTED.map(() => SERVICE_DAY), `${label}: service dates`);
    assertEqual(stored.counts.map((c) => [c.planned, c.served_children, c.served_adults]), [[130, 121, 7]], `${label}: stored counts`);
    const masses = await page.evaluate(() => [...document.querySelectorAll(".weighing .mass")].map((e) => e.textContent.replace(/[\u00a0\u202f]/g, " ")));
    assertEqual(masses, EXPECTED.map((w) => `${String(w.mass_grams / 1000).replace(".", ",")} kg`), `${label}: masses shown`);

    // Every other screen passes axe-core too.
    // Graphiques and Réglages are the office bundle's (a page load): the other tabs come back.
    for (const [href, screen] of [["/historique", "Historique"], ["/bureau/graphiques", "Graphiques"], ["/synchronisation", "Synchro"], ["/bureau/reglages", "Réglages"]]) {
      await page.click(`nav.tabs a[href="${href}"]`);
      await page.waitForFunction((h) => document.querySelector(`nav.tabs a[href="${h}"]`)?.getAttribute("aria-current") === "page", href);
      await page.waitFor("main h1, main h2");
      await checkAccessibility(page, screen);
    }
    assertEqual(page.errors, [], `${label}: page errors`);
  } finally {
    await page.close();
    await server.dispose();
  }
}

export const tests = {
  "kitchen day in Chromium, portrait 800×1280": () => kitchenDay("chromium", PORTRAIT),
  "kitchen day in Chromium, landscape 1280×800": () => kitchenDay("chromium", LANDSCAPE),
  "kitchen day in Firefox ESR, landscape 1280×800": () => kitchenDay("firefox", LANDSCAPE),
  "kitchen day in WebKit, portrait 800×1280": () => kitchenDay("webkit", PORTRAIT),
};
