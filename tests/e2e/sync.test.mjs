// Sync end to end: entries typed while the server is down reach it exactly once, with no click.
import { Server, launchBrowser, openApp, waitForServiceWorker, assert, assertEqual } from "./harness.mjs";

const ADMIN = { email: "admin@example.org", password: "un-mot-de-passe-long" };
const DEMO_CODE = "TEST-DEMX";

async function api(server, path, body, token) {
  const r = await fetch(`${server.url}/api/v1${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  const json = await r.json();
  if (!r.ok) throw new Error(`${path}: ${r.status} ${JSON.stringify(json)}`);
  return json;
}

/// Everything the server holds for the demo site, seen by a second enrolled device.
async function serverRecords(server) {
  const { token: admin } = await api(server, "/admin/login", ADMIN);
  const device = await api(server, "/enrol", { code: DEMO_CODE }).catch(() => null);
  let token = device?.token;
  if (!token) {
    const sites = await (await fetch(`${server.url}/api/v1/admin/sites`, { headers: { authorization: `Bearer ${admin}` } })).json();
    const site = (sites.sites ?? sites).find((s) => s.siret === "21760351500008");
    const { code } = await api(server, `/admin/sites/${site.id}/enrolment-codes`, { label: "contrôle" }, admin);
    token = (await api(server, "/enrol", { code, label: "contrôle" })).token;
  }
  const changes = [];
  let cursor = null;
  for (;;) {
    const page = await api(server, "/sync/pull", { cursor, limit: 500 }, token);
    changes.push(...page.changes);
    cursor = page.next_cursor;
    if (!page.has_more) break;
  }
  return changes.map((c) => c.record);
}

export const tests = {
  "entries typed while the server is down are on the server exactly once after it comes back, with no click": async () => {
    const server = await Server.start({
      ASSIETTE_DEMO_ENROLMENT_CODE: DEMO_CODE,
      ASSIETTE_ADMIN_EMAIL: ADMIN.email,
      ASSIETTE_ADMIN_PASSWORD: ADMIN.password,
    });
    const browser = await launchBrowser();
    try {
      const context = await browser.newContext({ locale: "fr-FR" });
      const page = await openApp(context, server.url);
      await waitForServiceWorker(page);
      // Enrol the tablet with the demo code.
      await page.click("a[href='/synchronisation']");
      await page.fill("#enrol-code", DEMO_CODE.toLowerCase());
      await page.click("button:has-text('Enrôler la tablette')");
      await page.waitForSelector("text=Tablette enrôlée", { timeout: 30_000 });

      await server.stop();
      await page.click("a[href='/']");
      const d = new Date();
      do d.setDate(d.getDate() - 1);
      while (d.getDay() === 0 || d.getDay() === 6);
      const iso = d.toISOString().slice(0, 10);
      await page.fill("#service-date", iso);
      await page.fill("#planned", "100");
      await page.fill("#served_children", "95");
      await page.fill("#served_adults", "5");
      await page.click("button:has-text('Enregistrer les repas')");
      await page.waitForSelector("[data-testid=saved]:has-text('Repas du')");
      for (const [stage, kg] of [["leftovers", "3,5"], ["unserved", "1,25"], ["preparation", "0,4"]]) {
        await page.click(`[data-stage=${stage}]`);
        await page.click("[data-component=tout]");
        await page.fill("#mass", kg);
        await page.click("button:has-text('Enregistrer la pesée')");
        await page.waitForSelector("[data-testid=saved]:has-text('enregistré')");
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
    } finally {
      await browser.close();
      await server.dispose();
    }
  },
};
