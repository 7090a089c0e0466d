// A commune's next deadlines and its engagement, end to end: the metropolis stores a
// commune's contract (as its guide pushes it); the commune page lists the contract's deadlines
// (renewal's preparation, quarterly files) and ma cantine's campaign, on screen and in the print
// media; a commune in delegated management without a contract says « aucun contrat
// enregistré ». The metropolis marks a commune « non engagée » with a real button: said only
// once the server saved it, kept across a reload and seen on the overview; offline the button
// is off and says why. A commune manager reads the state but has no button.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { AXE_TAGS } from "./engines.mjs";
import { Server, launchBrowser, openApp, waitForServiceWorker, assert, assertEqual } from "./harness.mjs";

const ADMIN = { email: "chargee@metropole.example.org", password: "un-mot-de-passe-long" };
const MANAGER = { email: "mairie@epouville.example.org", password: "le mot de passe du responsable" };
const plain = (s) => (s ?? "").replace(/[\u202f\u00a0]/g, " ").replace(/\s+/g, " ").trim();

async function api(server, path, body, token, method = "POST") {
  const r = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/// A SIRET with its Luhn check digit, from its first 13 digits.
function siret(first13) {
  for (let d = 0; d <= 9; d++) {
    const digits = [...`${first13}${d}`].map(Number);
    const sum = digits.reduce((s, x, i) => s + (i % 2 === digits.length % 2 ? (x * 2 > 9 ? x * 2 - 9 : x * 2) : x), 0);
    if (sum % 10 === 0) return `${first13}${d}`;
  }
  throw new Error("no check digit");
}

const pad = (x) => String(x).padStart(2, "0");
const iso = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const fr = (d) => `${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()}`;

/// axe-core's WCAG A/AA violations on the page (none expected), as « rule: targets ».
async function axe(page) {
  if (!(await page.evaluate("typeof window.axe === 'object'"))) {
    await page.evaluate(readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8"));
  }
  return page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
    return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  }, AXE_TAGS);
}

async function signIn(browser, server, who) {
  const context = await browser.newContext({ locale: "fr-FR", viewport: { width: 1280, height: 900 } });
  const page = await openApp(context, `${server.url}/territoire/connexion`);
  await waitForServiceWorker(page);
  await page.fill("#email", who.email);
  await page.fill("#password", who.password);
  await page.click("[data-testid=sign-in]");
  await page.waitForSelector(`[data-testid=signed-in][data-email='${who.email}']`, { timeout: 30_000 });
  return { context, page };
}

async function openCommune(page, server, insee, name) {
  await page.goto(`${server.url}/territoire/commune/${insee}`);
  await page.waitForSelector("body[data-ready]", { timeout: 30_000 });
  await page.waitForSelector(`[data-testid=commune-name]:has-text("${name}")`, { timeout: 30_000 });
}

export const tests = {
  "the commune page lists the contract's deadlines, on screen and printed, and the metropolis sets « engagée »": async () => {
    const server = await Server.start({ ASSIETTE_ADMIN_EMAIL: ADMIN.email, ASSIETTE_ADMIN_PASSWORD: ADMIN.password, ASSIETTE_DEMO: "0" });
    const browser = await launchBrowser();
    try {
      const { token } = await api(server, "/admin/login", ADMIN);
      const site = (name, siretCode, insee) =>
        api(
          server,
          "/admin/sites",
          { name, siret: siretCode, commune_insee: insee, management_type: "conceded", production_type: "site", sectors: ["education_primaire"], daily_meal_count: 150, yearly_meal_count: 21000 },
          token,
        );
      await api(server, "/admin/communes", { insee_code: "76447", name: "Montivilliers" }, token);
      await api(server, "/admin/communes", { insee_code: "76217", name: "Épouville" }, token);
      const montivilliers = siret("2176044700001");
      await site("École Jules Ferry", montivilliers, "76447");
      await site("École du Centre", siret("2176021700001"), "76217");
      // Montivilliers' contract, as its guide pushes it: a year ago for 32 months, quarterly files.
      const now = new Date();
      const start = new Date(now.getFullYear() - 1, now.getMonth(), 15);
      const end = new Date(now.getFullYear(), now.getMonth() + 20, 15);
      const renewal = new Date(end.getFullYear(), end.getMonth() - 18, 15);
      const contract = {
        kind: "catering_contract",
        meta: { id: "0192f0c1-8c9e-7b1a-9a55-000000000001", revision: 1, modified_at: new Date(Date.now() - 60_000).toISOString() },
        commune_insee_code: "76447",
        caterer_name: "Restauration Normande SAS",
        caterer_siren: "732829320",
        contract_type: "dsp",
        start_date: iso(start),
        end_date: iso(end),
        site_sirets: [montivilliers],
        targets: { egalim_percent: 55, organic_percent: 25, waste_grams_per_meal: 80, reporting_frequency: "quarterly" },
        committee: [],
      };
      const pushed = await api(server, "/concession/push", { records: [contract] }, token);
      assertEqual(pushed.results.map((r) => r.status), ["applied"], "the contract is stored");
      const { code } = await api(server, "/admin/invitations", { email: MANAGER.email, communes: ["76217"] }, token);
      await api(server, "/invitations/accept", { code, password: MANAGER.password });

      const { context, page } = await signIn(browser, server, ADMIN);
      await openCommune(page, server, "76447", "Montivilliers");

      // The contract's deadlines, computed from the stored record, dates dd/mm/yyyy.
      const renewalLine = plain(await page.textContent("[data-testid=contract-deadlines] li[data-kind=renewal_preparation]"));
      assert(renewalLine.startsWith(`${fr(renewal)} : Préparer le renouvellement du contrat (18 mois avant sa fin le ${fr(end)})`), `the renewal's preparation: ${renewalLine}`);
      assert((await page.$$("[data-testid=contract-deadlines] li[data-kind=periodic_report]")).length >= 1, "a quarterly file is due within six months");
      const heading = plain(await page.textContent("[data-testid=deadlines] h3"));
      assertEqual(heading, `Contrat avec Restauration Normande SAS (fin le ${fr(end)})`, "the contract named");
      const campaign = plain(await page.textContent("[data-testid=declaration-deadlines] li[data-kind=declaration_campaign]"));
      assert(/^\d\d\/\d\d\/\d{4} : Déclarer les achats \d{4} sur ma cantine/.test(campaign), `ma cantine's campaign: ${campaign}`);
      assertEqual(await page.$$eval("[data-testid=deadlines] li[data-kind=declaration_campaign]", (l) => l.length), 1, "the campaign once");
      assertEqual(await page.$$("[data-testid=missing-contract]"), [], "a contract is stored");

      // Printed: the deadlines and the engagement in words are on the page, the button is not.
      await page.emulateMedia({ media: "print" });
      assert(await page.isVisible("[data-testid=contract-deadlines] li[data-kind=renewal_preparation]"), "the deadlines are printed");
      assert(await page.isVisible("[data-testid=declaration-deadlines]"), "the campaign is printed");
      assert(await page.isVisible("[data-testid=engaged-state]"), "the engagement is printed, in words");
      assert(!(await page.isVisible("[data-testid=engaged-toggle]")), "the button is not printed");
      const pdf = await page.pdf({ format: "A4", printBackground: true });
      assert(pdf.subarray(0, 5).toString() === "%PDF-", "an A4 PDF");
      await page.emulateMedia({ media: "screen" });

      // Engagement: a real button, at least 48 px, the state in words.
      assertEqual(await page.getAttribute("[data-testid=engaged-state]", "data-engaged"), "true", "engaged by default");
      assert(plain(await page.textContent("[data-testid=engaged-state]")).startsWith("✓ Engagée"), "the state in words");
      const box = await page.locator("[data-testid=engaged-toggle]").boundingBox();
      assert(box.height >= 48 && box.width >= 48, `a 48 px target (${box.width}×${box.height})`);
      assertEqual(await axe(page), [], "axe on the commune page with its deadlines and button");
      // Offline: the button is off and says the change cannot be made now.
      await context.setOffline(true);
      await page.waitForSelector("[data-testid=engaged-offline]");
      assert(plain(await page.textContent("[data-testid=engaged-offline]")).includes("ce n'est pas possible maintenant"), "offline: said");
      assert(await page.isDisabled("[data-testid=engaged-toggle]"), "offline: the button is off");
      await context.setOffline(false);
      await page.waitForSelector("[data-testid=engaged-toggle]:not([disabled])");
      assertEqual(await page.$$("[data-testid=engaged-offline]"), [], "online again: no warning");
      // Saved, then said.
      assertEqual(plain(await page.textContent("[data-testid=engaged-toggle]")), "Marquer la commune comme non engagée", "what the button does");
      await page.click("[data-testid=engaged-toggle]");
      await page.waitForSelector("[data-testid=engaged-message][data-ok=true]");
      assertEqual(plain(await page.textContent("[data-testid=engaged-message]")), "Enregistré : Montivilliers n'est plus engagée dans le programme.", "said once saved");
      assertEqual(await page.getAttribute("[data-testid=engaged-state]", "data-engaged"), "false", "the state follows");
      const stored = await api(server, "/territory/overview?per_page=500", undefined, token, "GET");
      assertEqual(stored.sites.find((r) => r.site.name === "École Jules Ferry").site.engaged, false, "the server has it");
      await page.waitForFunction(() => document.querySelector("[data-testid=commune-site] td:nth-child(3)")?.textContent === "non");
      await page.reload();
      await page.waitForSelector("[data-testid=engaged-state][data-engaged=false]", { timeout: 30_000 });
      assert(plain(await page.textContent("[data-testid=engaged-state]")).startsWith("✗ Non engagée"), "kept across a reload");
      // The overview, read at sign-in before the change, reads it again: its ETag changed, so
      // the stored answer is not reused.
      await page.click("a[href='/territoire/']");
      await page.waitForSelector("[data-testid=overview-table] [data-testid=site-row]");
      await page.selectOption("[data-testid=filter-engaged]", "false");
      await page.waitForFunction(() => document.querySelectorAll("[data-testid=overview-table] [data-testid=site-row]").length === 1);
      assertEqual(
        await page.$$eval("[data-testid=overview-table] [data-testid=site-row]", (rows) => rows.map((r) => r.dataset.site)),
        ["École Jules Ferry"],
        "the overview's « non engagés » filter",
      );

      // A commune in delegated management without a contract: said in words, no date made up.
      await openCommune(page, server, "76217", "Épouville");
      const missing = plain(await page.textContent("[data-testid=missing-contract]"));
      assert(missing.includes("aucun contrat enregistré"), `missing contract said: ${missing}`);
      assertEqual(await page.$$("[data-testid=contract-deadlines]"), [], "no contract date");
      assert((await page.$$("[data-testid=declaration-deadlines] li")).length >= 1, "the campaign all the same");
      await page.emulateMedia({ media: "print" });
      assert(await page.isVisible("[data-testid=missing-contract]"), "printed too");
      await page.emulateMedia({ media: "screen" });

      // The commune's manager reads the state, without the button.
      const manager = await signIn(browser, server, MANAGER);
      await openCommune(manager.page, server, "76217", "Épouville");
      assert(plain(await manager.page.textContent("[data-testid=engaged-state]")).startsWith("✓ Engagée"), "the manager reads the state");
      assertEqual(await manager.page.$$("[data-testid=engaged-toggle]"), [], "no button for a manager");
      assert(plain(await manager.page.textContent("[data-testid=missing-contract]")).includes("aucun contrat enregistré"), "the manager reads the same deadlines");
    } finally {
      await browser.close();
      await server.dispose();
    }
  },
};
