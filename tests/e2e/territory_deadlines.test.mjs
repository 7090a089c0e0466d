// A commune's next deadlines and its engagement, end to end: the metropolis stores a
// commune's contract (as its guide pushes it); the commune page lists the contract's deadlines
// (renewal's preparation, quarterly files) and ma cantine's campaign, on screen and in the print
// media; a commune in delegated management without a contract says « aucun contrat
// enregistré ». The metropolis marks a commune « non engagée » with a real button: said only
// once the server saved it, kept across a reload and seen on the overview; offline the button
// is off and says why. The overview's table of communes has the same button on each row: marked
// « engagée » again from there, the overview reads its figures again. A commune manager reads
// the state on both pages but has no button.
import { api, axe, signInTerritory, siret, withMetropolis, assert, assertEqual } from "./harness.mjs";

const ADMIN = { email: "chargee@metropole.example.org", password: "un-mot-de-passe-long" };
const MANAGER = { email: "mairie@epouville.example.org", password: "le mot de passe du responsable" };
const plain = (s) => (s ?? "").replace(/[\u202f\u00a0]/g, " ").replace(/\s+/g, " ").trim();

const pad = (x) => String(x).padStart(2, "0");
const iso = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
const fr = (d) => `${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()}`;

async function openCommune(page, server, insee, name) {
  await page.goto(`${server.url}/territoire/commune/${insee}`);
  await page.waitForSelector("body[data-ready]", { timeout: 30_000 });
  await page.waitForSelector(`[data-testid=commune-name]:has-text("${name}")`, { timeout: 30_000 });
}

export const tests = {
  "the commune page lists the contract's deadlines, on screen and printed, and the metropolis sets « engagée »": () =>
    withMetropolis({ admin: ADMIN, demo: false }, async ({ server, browser, token, commune, site, invite }) => {
      await commune("76447", "Montivilliers");
      await commune("76217", "Épouville");
      const montivilliers = siret("2176044700001");
      await site("École Jules Ferry", montivilliers, "76447", { management: "conceded" });
      await site("École du Centre", siret("2176021700001"), "76217", { management: "conceded" });
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
      await api(server, "/invitations/accept", { code: await invite(MANAGER.email, ["76217"]), password: MANAGER.password });

      const { context, page } = await signInTerritory(browser, server, ADMIN);
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

      // The overview's table of communes: the same state in words and, for the metropolis, the
      // same button on each commune's row.
      const row = (insee) => `[data-testid=communes-table] [data-testid=commune-row][data-commune='${insee}']`;
      assertEqual(await page.getAttribute(`${row("76447")} [data-testid=engaged-state]`, "data-engaged"), "false", "the overview reads the commune page's change");
      assertEqual(plain(await page.textContent(`${row("76447")} [data-testid=engaged-state]`)), "✗ Non engagée", "the state in words");
      assertEqual(plain(await page.textContent(`${row("76217")} [data-testid=engaged-state]`)), "✓ Engagée", "the other commune's state");
      const toggle = `${row("76447")} [data-testid=engaged-toggle]`;
      assertEqual(plain(await page.textContent(toggle)), "Marquer la commune comme engagée (Montivilliers)", "what the row's button does, and for which commune");
      const rowBox = await page.locator(toggle).boundingBox();
      assert(rowBox.height >= 48 && rowBox.width >= 48, `a 48 px target in the row (${rowBox.width}×${rowBox.height})`);
      assertEqual(await page.$$eval("[data-testid=communes-table] [data-testid=engaged-toggle]", (b) => b.length), 2, "a button on each commune's row");
      assertEqual(await axe(page), [], "axe on the overview with its engagement buttons");
      // Offline: every row's button is off, and the page says why, once.
      await context.setOffline(true);
      await page.waitForSelector("[data-testid=engaged-offline]");
      assert(plain(await page.textContent("[data-testid=engaged-offline]")).includes("ce n'est pas possible maintenant"), "overview offline: said");
      assertEqual(await page.$$eval("[data-testid=engaged-offline]", (n) => n.length), 1, "said once");
      assert(await page.isDisabled(toggle), "overview offline: the button is off");
      assert(await page.isDisabled(`${row("76217")} [data-testid=engaged-toggle]`), "overview offline: every button is off");
      await context.setOffline(false);
      await page.waitForSelector(`${toggle}:not([disabled])`);
      assertEqual(await page.$$("[data-testid=engaged-offline]"), [], "overview online again: no warning");
      // Saved, then said on its row; the overview reads its figures again.
      await page.click(toggle);
      await page.waitForSelector(`${row("76447")} [data-testid=engaged-message][data-ok=true]`);
      assertEqual(plain(await page.textContent(`${row("76447")} [data-testid=engaged-message]`)), "Enregistré : Montivilliers est engagée dans le programme.", "said once saved, on its row");
      const again = await api(server, "/territory/overview?per_page=500", undefined, token, "GET");
      assertEqual(again.sites.find((r) => r.site.name === "École Jules Ferry").site.engaged, true, "the server has it");
      await page.waitForSelector(`${row("76447")} [data-testid=engaged-state][data-engaged=true]`);
      assertEqual(plain(await page.textContent(`${row("76447")} [data-testid=engaged-state]`)), "✓ Engagée", "the row's state follows");
      await page.waitForFunction(() => document.querySelectorAll("[data-testid=overview-table] [data-testid=site-row]").length === 0);
      assertEqual(plain(await page.textContent("[data-testid=rows-shown]")), "0 site(s) affiché(s) sur 2.", "read again: no site is « non engagé » any more");
      assertEqual(await page.inputValue("[data-testid=filter-engaged]"), "false", "the filter still shows « Non engagés » once the table is drawn again");
      await page.selectOption("[data-testid=filter-engaged]", "");
      await page.waitForFunction(() => document.querySelectorAll("[data-testid=overview-table] [data-testid=site-row]").length === 2);
      assertEqual(
        await page.$$eval("[data-testid=overview-table] [data-testid=site-row] td:nth-child(5)", (tds) => tds.map((t) => t.textContent)),
        ["oui", "oui"],
        "the sites' « Engagé » read again",
      );
      await page.reload();
      await page.waitForSelector(`${row("76447")} [data-testid=engaged-state][data-engaged=true]`, { timeout: 30_000 });

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
      const manager = await signInTerritory(browser, server, MANAGER);
      await openCommune(manager.page, server, "76217", "Épouville");
      assert(plain(await manager.page.textContent("[data-testid=engaged-state]")).startsWith("✓ Engagée"), "the manager reads the state");
      assertEqual(await manager.page.$$("[data-testid=engaged-toggle]"), [], "no button for a manager");
      assert(plain(await manager.page.textContent("[data-testid=missing-contract]")).includes("aucun contrat enregistré"), "the manager reads the same deadlines");
      // On the overview too: the state in words, no button, no offline note about it.
      await manager.page.click("a[href='/territoire/']");
      await manager.page.waitForSelector(`${row("76217")} [data-testid=engaged-state]`, { timeout: 30_000 });
      assertEqual(plain(await manager.page.textContent(`${row("76217")} [data-testid=engaged-state]`)), "✓ Engagée", "the manager reads the state on the overview");
      assertEqual(await manager.page.$$("[data-testid=engaged-toggle]"), [], "no button on the manager's overview");
      await manager.context.setOffline(true);
      await manager.page.waitForSelector("[data-testid=connection][data-connection=offline]");
      assertEqual(await manager.page.$$("[data-testid=engaged-offline]"), [], "nothing to say offline: the manager changes nothing");
    }),
};
