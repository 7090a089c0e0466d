// The kitchen day in each engine (Chromium, Firefox, WebKit): counts and one weighing saved,
// still there after a reload, with the service worker and IndexedDB; axe-core's WCAG A/AA
// violations are printed (not asserted yet).
import { Server, assertEqual, lastWeekday } from "./harness.mjs";
import { ENGINES, byText, openEngine } from "./engines.mjs";

// Today's screen: every selector of the scenario.
const UI = {
  ready: "body[data-ready]",
  serviceDate: "#service-date",
  serviceDateFr: "[data-testid=service-date-fr]",
  planned: "#planned",
  children: "#served_children",
  adults: "#served_adults",
  saveMeals: byText("button", "Enregistrer les repas"),
  saved: "[data-testid=saved]",
  stage: (code) => `button[data-stage=${code}]`,
  component: (code) => `button[data-component=${code}]`,
  mass: "#mass",
  saveWeighing: byText("button", "Enregistrer la pesée"),
  weighingMass: ".weighing .mass",
};

const SERVICE_DAY = lastWeekday();

const waitText = (page, selector, text) =>
  page.waitForFunction(
    ({ selector, text }) => [...document.querySelectorAll(selector)].some((e) => e.textContent.replace(/[\u202f\u00a0]/g, " ").includes(text)),
    { selector, text },
  );

async function chooseServiceDay(page) {
  await page.fill(UI.serviceDate, SERVICE_DAY);
  const [y, m, d] = SERVICE_DAY.split("-");
  await waitText(page, UI.serviceDateFr, `${d}/${m}/${y}`);
}

async function kitchenDay(engine) {
  const started = Date.now();
  const server = await Server.start();
  let page;
  try {
    page = await openEngine(engine, { viewport: { width: 800, height: 1280 }, locale: "fr-FR" });
    const opened = Date.now();
    await page.goto(server.url);
    await page.waitFor(UI.ready, { timeout: 30_000 });

    await chooseServiceDay(page);
    await page.fill(UI.planned, "120");
    await page.fill(UI.children, "112");
    await page.fill(UI.adults, "8");
    await page.click(UI.saveMeals);
    await waitText(page, UI.saved, "Repas du");

    await page.click(UI.stage("leftovers"));
    await page.click(UI.component("dessert"));
    await page.fill(UI.mass, "0,5");
    await page.click(UI.saveWeighing);
    // The meals' note already says « enregistrés »: the weighing is saved once the day's list,
    // read back from IndexedDB, shows it.
    await waitText(page, UI.weighingMass, "0,5 kg");

    // The service worker takes control (needed for offline use).
    const sw = await page.waitForFunction(
      () => (navigator.serviceWorker ? navigator.serviceWorker.getRegistration().then((r) => r?.active?.state === "activated" && "activated") : "no navigator.serviceWorker"),
      undefined,
      { timeout: 30_000 },
    );
    assertEqual(sw, "activated", "service worker state");

    await page.reload();
    await page.waitFor(UI.ready, { timeout: 30_000 });
    await chooseServiceDay(page);
    // The day as shown, once loaded from IndexedDB.
    const shown = (ui) => ({
      masses: [...document.querySelectorAll(ui.weighingMass)].map((e) => e.textContent.replace(/\u202f/g, " ")),
      counts: [ui.planned, ui.children, ui.adults].map((s) => document.querySelector(s)?.value),
    });
    const expected = { masses: ["0,5 kg"], counts: ["120", "112", "8"] };
    const arg = { ui: UI, want: JSON.stringify(expected) };
    await page.waitForFunction(`(a) => JSON.stringify((${shown})(a.ui)) === a.want`, arg, { timeout: 15_000 }).catch(() => {});
    assertEqual(await page.evaluate(shown, UI), expected, `${engine}: the day after a reload`);
    // Controlled by the service worker after the reload.
    await page.waitForFunction(() => !!navigator.serviceWorker.controller, undefined, { timeout: 15_000 });
    const scenario = Date.now();

    const violations = await page.axe();
    const lines = violations.map(
      (v) => `    ${v.id} (${v.impact}, ${v.nodes.length} node${v.nodes.length > 1 ? "s" : ""}): ${v.help}\n` +
        v.nodes.slice(0, 3).map((n) => `      ${n.target.join(" ")}  ${n.summary?.split("\n").slice(1).join(" ").trim().slice(0, 160)}`).join("\n"),
    );
    console.log(
      `  [${engine}] start ${opened - started} ms, scenario ${scenario - opened} ms (${page.taps} taps), axe ${Date.now() - scenario} ms: ` +
        `${violations.length} violation${violations.length === 1 ? "" : "s"}${lines.length ? `\n${lines.join("\n")}` : ""}`,
    );
    if (page.errors.length) console.log(`  [${engine}] page errors:\n    ${page.errors.join("\n    ")}`);
  } finally {
    await page?.close();
    await server.dispose();
  }
}

export const tests = Object.fromEntries(ENGINES.map((e) => [`${e}: counts and a weighing survive a reload; axe report`, () => kitchenDay(e)]));
