// A new commune manager, end to end, against the release build served by the real server binary:
// the metropolis (admin account) creates a commune and a site and invites the manager through
// the API; the manager accepts the invitation in the app (office bundle), signs out and in again
// (a wrong password and an offline attempt refused in French), goes offline, types three
// purchases and imports a national fixture, sees the EGalim shares that `assiette-server egalim`
// computes on the same lines, stays signed in across an offline reload, goes online: the server
// has every line exactly once. Then the session is ended server-side (password changed
// elsewhere): a new line typed, sync answers 401, the line is kept and the app asks to sign in
// again; once signed in again, it is sent exactly once.
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, SERVER_BIN, api, axe, openApp, pullAll, typePurchase, waitForServiceWorker, waitPending, withMetropolis, assert, assertEqual } from "./harness.mjs";

const ADMIN = { email: "admin@example.org", password: "un-mot-de-passe-long" };
const MANAGER = { email: "gestion@gonfreville.fr", password: "Cantine-Gonfreville-2026" };
const NEW_PASSWORD = "Un-autre-mot-de-passe-2026";
const INSEE = "76305";
// The fixture's SIRET: the site the metropolis registers for the manager.
const SIRET = "21010034300016";
const FIXTURE = join(ROOT, "crates/domain/tests/fixtures/ma-cantine/achats/purchases_good.csv");
const plain = (s) => (s ?? "").replace(/[\u202f\u00a0]/g, " ");

/// Every purchase record the server holds for the site, pulled with a metropolis session.
async function serverPurchases(server, siteId, token) {
  const records = await pullAll(server, "/sync/pull", { site_id: siteId, limit: 500 }, token);
  return records.filter((r) => r.kind === "purchase");
}

/// Each line once: distinct ids, none deleted, the count and the sum expected.
async function checkServerHas(server, admin, siteId, count, cents, what) {
  const ps = await serverPurchases(server, siteId, admin);
  const ids = new Set(ps.map((p) => p.meta.id));
  assertEqual(ids.size, ps.length, `${what}: each record once in the site's log`);
  const live = ps.filter((p) => !p.meta.deleted);
  assertEqual(live.length, count, `${what}: lines on the server`);
  assertEqual(live.reduce((s, p) => s + p.prix_ht_cents, 0), cents, `${what}: sum on the server`);
  return live;
}

async function rows(page) {
  return page.$$eval("[data-testid=purchase-row]", (trs) => trs.length);
}

/// Share of `part` in `total` in hundredths of a percent, rounded half-even (the platform's).
function percentHundredths(part, total) {
  if (total <= 0n) return "";
  const n = part * 10000n;
  let q = n / total;
  const r = n - q * total;
  if (2n * r > total || (2n * r === total && q % 2n === 1n)) q += 1n;
  return String(q);
}

const cents = (s) => BigInt(s.replace(".", ""));

/// The dashboard's shares as the command's totals give them (codes of `data-code`).
function sharesOf(t) {
  const egalim = cents(t.valeur_bio) + cents(t.valeur_siqo) + cents(t.valeur_egalim_autres) + cents(t.valeur_externalites_performance);
  return {
    bio: percentHundredths(cents(t.valeur_bio), cents(t.valeur_totale)),
    egalim: percentHundredths(egalim, cents(t.valeur_totale)),
    viandes_volailles_egalim: percentHundredths(cents(t.valeur_viandes_volailles_egalim), cents(t.valeur_viandes_volailles)),
    produits_de_la_mer_egalim: percentHundredths(cents(t.valeur_produits_de_la_mer_egalim), cents(t.valeur_produits_de_la_mer)),
  };
}

async function dashboardShares(page, year) {
  await page.selectOption("[data-testid=dashboard-year]", String(year));
  await page.waitForFunction((y) => document.querySelector("[data-testid=dashboard-shares] h2")?.textContent.includes(String(y)), year);
  return page.$$eval("[data-testid=dashboard-shares] li[data-code]", (lis) => Object.fromEntries(lis.map((l) => [l.dataset.code, l.dataset.percent])));
}

export const tests = {
  "a new manager accepts an invitation, works offline, syncs once, and keeps a line through a revoked session": () =>
    withMetropolis({ admin: ADMIN }, async ({ server, browser, token: admin, commune, site: addSite, invite, tmp }) => {
      // The metropolis: a commune, its site, and the manager's invitation.
      await commune(INSEE, "Gonfreville-l'Orcher");
      const site = await addSite("École Jules Ferry", SIRET, INSEE);
      const code = await invite(MANAGER.email, [INSEE]);

      // The manager opens the invitation link and chooses a password.
      const context = await browser.newContext({ locale: "fr-FR", viewport: { width: 1280, height: 900 } });
      const page = await openApp(context, `${server.url}/bureau/connexion?invitation=${encodeURIComponent(code)}`);
      await waitForServiceWorker(page);
      assertEqual(await page.inputValue("#invitation-code"), code, "the link fills the code in");
      await page.fill("#new-password", MANAGER.password);
      await page.fill("#new-password-again", "pas le même mot de passe");
      await page.click("[data-testid=accept-invitation]");
      await page.waitForSelector("[data-testid=invitation-error]:has-text('diffèrent')");
      await page.fill("#new-password-again", MANAGER.password);
      await page.click("[data-testid=accept-invitation]");
      await page.waitForSelector(`[data-testid=signed-in][data-email='${MANAGER.email}']`, { timeout: 30_000 });
      await page.waitForSelector("[data-testid=purchases-total]");
      assert(plain(await page.textContent("[data-testid=signed-in]")).includes("Gonfreville-l'Orcher"), "the commune is named");

      // Sign out (nothing unsent), then sign in: a wrong password, offline, then right.
      await page.click("[data-testid=sign-out]");
      await page.waitForSelector("[data-testid=signed-out]");
      await page.click("[data-testid=signed-out] a");
      await page.waitForSelector("[data-testid=sign-in-form]");
      await page.fill("#email", MANAGER.email);
      await page.fill("#password", "mauvais-mot-de-passe");
      await page.click("[data-testid=sign-in]");
      await page.waitForSelector("[data-testid=sign-in-error]:has-text('Adresse e-mail ou mot de passe incorrect')");
      assertEqual(await axe(page), [], "axe on « Connexion » with an error");
      await context.setOffline(true);
      await page.fill("#password", MANAGER.password);
      await page.click("[data-testid=sign-in]");
      await page.waitForSelector("[data-testid=sign-in-error]:has-text('Connexion impossible hors ligne')");
      await context.setOffline(false);
      await page.click("[data-testid=sign-in]");
      await page.waitForSelector(`[data-testid=signed-in][data-email='${MANAGER.email}']`, { timeout: 30_000 });
      await page.waitForSelector("[data-testid=purchases-total]");
      // The scope is the session's site (no SIRET was set in « Réglages »).
      assertEqual(await page.$("[data-testid=no-scope]"), null, "a scope from the session");

      // Offline from here on: three purchases typed, a national file imported.
      await server.stop();
      await context.setOffline(true);
      const typed = [
        { description: "Pommes golden", supplier: "Vergers de Caux", family: "FRUITS_ET_LEGUMES", price: "12,50", cents: 1250, labels: ["BIO"] },
        { description: "Poulet fermier", supplier: "Volailles Normandes", family: "VIANDES_VOLAILLES", price: "1 234,50", cents: 123450, labels: ["LABEL_ROUGE"] },
        { description: "Filets de lieu", supplier: "Marée du Havre", family: "PRODUITS_DE_LA_MER", price: "80", cents: 8000 },
      ];
      for (const p of typed) {
        await page.click("[data-testid=new-purchase]");
        await typePurchase(page, p);
      }
      await page.selectOption("[data-testid=filter-year]", "");
      await page.click("[data-testid=open-import]");
      await page.setInputFiles("#purchase-file", FIXTURE);
      await page.waitForSelector("[data-testid=import-preview]");
      assert(plain(await page.textContent("[data-testid=import-preview]")).includes("École Jules Ferry"), "the preview names the session's site");
      const fileCents = Number(await page.getAttribute("[data-testid=import-preview]", "data-total-cents"));
      await page.click("[data-testid=import-write]");
      await page.waitForSelector("[data-testid=import-written]:has-text('8 achats')");
      await page.waitForFunction(() => document.querySelectorAll("[data-testid=purchase-row]").length === 11);
      await waitPending(page, 11, "eleven lines waiting");
      const allCents = typed.reduce((s, p) => s + p.cents, 0) + fileCents;
      // Sign-out is refused while lines wait for the server: nothing is dropped.
      await page.click("[data-testid=sign-out]");
      await page.waitForSelector("[data-testid=session-message]:has-text('Déconnexion refusée : 11 achats ne sont pas encore envoyés')");
      await page.waitForSelector(`[data-testid=signed-in][data-email='${MANAGER.email}']`);

      // Still signed in after an offline reload (the session is in IndexedDB).
      await page.reload();
      await page.waitForSelector("body[data-ready]");
      await page.waitForSelector(`[data-testid=signed-in][data-email='${MANAGER.email}']`);
      await page.selectOption("[data-testid=filter-year]", "");
      await page.waitForFunction(() => document.querySelectorAll("[data-testid=purchase-row]").length === 11);

      // The dashboard's shares equal the command's on the same lines (fixture + typed).
      const today = new Date();
      const pad = (n) => String(n).padStart(2, "0");
      const iso = `${today.getFullYear()}-${pad(today.getMonth() + 1)}-${pad(today.getDate())}`;
      const fixture = readFileSync(FIXTURE, "utf8").trimEnd();
      const typedCsv = typed.map((p) =>
        [SIRET, p.description, p.supplier, iso, (p.cents / 100).toFixed(2), p.family, (p.labels ?? []).join(","), "", "", "", "", ""].join(","),
      );
      const file = join(tmp, "lignes.csv");
      writeFileSync(file, `${fixture}\n${typedCsv.join("\n")}\n`);
      const cli = JSON.parse(execFileSync(SERVER_BIN, ["egalim", file], { encoding: "utf8" })).sites;
      assertEqual(cli.map((s) => s.year).sort(), [2022, today.getFullYear()], "the command sees both years");
      await page.click('nav.tabs a:has-text("EGalim")');
      await page.waitForSelector("[data-testid=dashboard-shares]");
      const siteOptions = await page.$$eval("[data-testid=dashboard-site] option", (os) => os.map((o) => o.textContent));
      assert(siteOptions.some((o) => o.includes("École Jules Ferry")), `the session's site is listed: ${siteOptions}`);
      for (const totals of cli) {
        const shown = await dashboardShares(page, totals.year);
        assert(shown.bio !== "" && shown.egalim !== "", `shares shown for ${totals.year}: ${JSON.stringify(shown)}`);
        assertEqual(shown, sharesOf(totals), `shares of ${totals.year}`);
      }

      // Online: everything reaches the server, once.
      await server.start();
      await context.setOffline(false);
      await waitPending(page, 0, "everything sent");
      await checkServerHas(server, admin, site.id, 11, allCents, "after the first sync");
      // The server's commune figures are the command's.
      for (const totals of cli) {
        const egalim = await api(server, `/communes/${INSEE}/egalim?year=${totals.year}`, undefined, admin, "GET");
        const s = JSON.stringify(egalim);
        for (const field of ["valeur_totale", "valeur_bio", "valeur_siqo", "valeur_viandes_volailles", "valeur_produits_de_la_mer"]) {
          assert(s.includes(`"${field}":"${totals[field]}"`), `server ${totals.year} ${field} = ${totals[field]}: ${s.slice(0, 600)}`);
        }
      }

      // The session ends on the server: the password is changed from another sign-in.
      const { token: elsewhere } = await api(server, "/admin/login", MANAGER);
      await api(server, "/account/password", { current_password: MANAGER.password, new_password: NEW_PASSWORD }, elsewhere);
      await page.click('nav.tabs a:has-text("Achats")');
      await page.waitForSelector("[data-testid=purchases-total]");
      await page.click("[data-testid=new-purchase]");
      await typePurchase(page, { description: "Yaourts fermiers", supplier: "Ferme du Pays de Caux", family: "PRODUITS_LAITIERS", price: "45,20", labels: ["BIO"] });
      await page.waitForSelector("[data-testid=session-expired]", { timeout: 30_000 });
      const expired = plain(await page.textContent("[data-testid=session-expired]"));
      assert(expired.includes("Votre session a expiré : reconnectez-vous") && expired.includes("votre achat non envoyé est conservé"), `expired: ${expired}`);
      await waitPending(page, 1, "the new line kept");
      assertEqual(await axe(page), [], "axe on « Achats » with the session expired");
      await checkServerHas(server, admin, site.id, 11, allCents, "nothing sent with the ended session");
      // Still expired (and the line still there) after a reload.
      await page.reload();
      await page.waitForSelector("[data-testid=session-expired]");
      await waitPending(page, 1, "the new line kept across a reload");
      // Signing in again sends it, once.
      await page.click("[data-testid=sign-in-again]");
      await page.waitForSelector("[data-testid=sign-in-form]");
      assertEqual(await page.inputValue("#email"), MANAGER.email, "the address is filled in");
      await page.fill("#password", NEW_PASSWORD);
      await page.click("[data-testid=sign-in]");
      await page.waitForSelector(`[data-testid=signed-in][data-email='${MANAGER.email}']`, { timeout: 30_000 });
      await waitPending(page, 0, "the kept line sent after signing in again");
      await checkServerHas(server, admin, site.id, 12, allCents + 4520, "after signing in again");
      // A second sync sends nothing more.
      await page.reload();
      await page.waitForSelector("body[data-ready]");
      await waitPending(page, 0, "nothing left");
      await checkServerHas(server, admin, site.id, 12, allCents + 4520, "after another start");

      // Signed out, wrong passwords are throttled, with the wait the server gives.
      await page.click("[data-testid=sign-out]");
      await page.waitForSelector("[data-testid=signed-out]");
      await page.click("[data-testid=signed-out] a");
      await page.waitForSelector("[data-testid=sign-in-form]");
      await page.fill("#email", MANAGER.email);
      let said = "";
      for (let i = 0; i < 6 && !said.includes("Trop d'essais"); i++) {
        const before = Number(await page.getAttribute("[data-testid=sign-in-form]", "data-attempts"));
        await page.fill("#password", `mauvais-${i}`);
        await page.click("[data-testid=sign-in]");
        await page.waitForFunction((n) => Number(document.querySelector("[data-testid=sign-in-form]").dataset.attempts) > n, before);
        said = plain(await page.textContent("[data-testid=sign-in-error]"));
        if (!said.includes("Trop d'essais")) assert(said.includes("Adresse e-mail ou mot de passe incorrect"), `refused: ${said}`);
      }
      assert(/Trop d'essais : réessayez dans \d+ s\./.test(said), `throttled with the wait: ${said}`);
    }),
};
