// Shared pieces of the end-to-end tests: the real server binary on a free port with a fresh
// SQLite database, headless Debian Chromium driven by playwright-core, the metropolis' setup
// through the API, and the steps several tests take on the app's screens.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

export const ROOT = resolve(new URL("../..", import.meta.url).pathname);
export const SERVER_BIN = process.env.ASSIETTE_SERVER_BIN || join(ROOT, "target/release/assiette-server");
export const STATIC_DIR = process.env.ASSIETTE_STATIC_DIR || join(ROOT, "dist");

export async function freePort() {
  return new Promise((ok, ko) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
    s.on("error", ko);
  });
}

/// A running assiette-server. `stop()` kills it (SIGTERM) and waits; `start()` again reuses the
/// same port and database, as after a crash or a restart. `nofile` caps its file descriptors.
export class Server {
  constructor({ port, dataDir, env = {}, nofile }) {
    this.port = port;
    this.dataDir = dataDir;
    this.env = env;
    this.nofile = nofile;
    this.url = `http://127.0.0.1:${port}`;
    this.output = "";
  }

  static async start(env = {}, { nofile } = {}) {
    const dataDir = mkdtempSync(join(tmpdir(), "assiette-e2e-"));
    const server = new Server({ port: await freePort(), dataDir, env, nofile });
    await server.start();
    return server;
  }

  async start() {
    // prlimit sets the limit, then execs the server (same process: signals reach it).
    const [cmd, args] = this.nofile ? ["prlimit", [`--nofile=${this.nofile}`, SERVER_BIN, "serve"]] : [SERVER_BIN, ["serve"]];
    this.proc = spawn(cmd, args, {
      env: {
        ...process.env,
        ASSIETTE_PORT: String(this.port),
        DATABASE_URL: `sqlite://${join(this.dataDir, "assiette.sqlite3")}`,
        ASSIETTE_STATIC_DIR: STATIC_DIR,
        // The tests enrol into the demo canteen, which a plain `serve` does not create.
        ASSIETTE_DEMO: "1",
        RUST_LOG: "warn",
        ...this.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.proc.stdout.on("data", (d) => (this.output += d));
    this.proc.stderr.on("data", (d) => (this.output += d));
    const exited = new Promise((_, ko) => this.proc.once("exit", (c) => ko(new Error(`server exited (${c}):\n${this.output}`))));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      try {
        const r = await Promise.race([fetch(`${this.url}/api/v1/health`), exited]);
        if (r.ok) return;
      } catch (e) {
        if (String(e.message).startsWith("server exited")) throw e;
      }
      await sleep(100);
    }
    throw new Error(`server did not answer within 30 s:\n${this.output}`);
  }

  async stop() {
    if (!this.proc || this.proc.exitCode !== null) return;
    const done = new Promise((ok) => this.proc.once("exit", ok));
    this.proc.kill("SIGTERM");
    await done;
    // Make sure "offline" is real: nothing answers on the port any more.
    try {
      await fetch(`${this.url}/api/v1/health`);
      throw new Error("server still answers after stop");
    } catch (e) {
      if (e.message === "server still answers after stop") throw e;
    }
  }

  async dispose() {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-dev-shm-usage",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  });
}

export const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

export function assert(condition, message) {
  if (!condition) throw new Error(`assertion failed: ${message}`);
}

export function assertEqual(actual, expected, message) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${message}: expected ${e}, got ${a}`);
}

/// Opens the app and waits until it is interactive (the shell sets data-ready on <body>).
export async function openApp(context, url) {
  const page = await context.newPage();
  page.on("pageerror", (e) => console.error(`  [page error] ${e.message}`));
  await page.goto(url);
  await page.waitForSelector("body[data-ready]", { timeout: 30_000 });
  return page;
}

/// Waits until the service worker controls the page, so a reload works offline.
export async function waitForServiceWorker(page) {
  await page.evaluate(() => navigator.serviceWorker.ready);
  if (!(await page.evaluate(() => !!navigator.serviceWorker.controller))) {
    await page.reload();
    await page.waitForSelector("body[data-ready]", { timeout: 30_000 });
  }
  await page.waitForFunction(() => !!navigator.serviceWorker.controller, null, { timeout: 30_000 });
}

/// The last weekday before today, as yyyy-mm-dd (a Sunday service date asks for confirmation).
export function lastWeekday() {
  const d = new Date();
  do d.setDate(d.getDate() - 1);
  while (d.getDay() === 0 || d.getDay() === 6);
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/// A JSON call to the server's API (`path` below /api/v1), as the app or a guide makes it; the
/// parsed answer (null when empty). Throws with the status and body on any refusal.
export async function api(server, path, body, token, method = "POST") {
  const r = await fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`${path}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

/// Every record a pull route (`/sync/pull`, `/concession/pull`) gives for `body` (its filter and
/// page size), page after page.
export async function pullAll(server, path, body, token) {
  const out = [];
  let cursor = null;
  for (;;) {
    const page = await api(server, path, { ...body, cursor }, token);
    out.push(...page.changes.map((c) => c.record));
    cursor = page.next_cursor;
    if (!page.has_more) return out;
  }
}

/// The metropolis' side of a test: a fresh server whose administrator (the metropolis) is
/// `admin`, with the demo canteen unless `demo` is false, a browser, and the administrator's
/// API session `token`, given to `fn` with shortcuts that register the territory as the
/// metropolis does: `commune(insee, name)`, `site(name, siret, insee, { management, daily })`
/// (a primary school's kitchen-on-site, 140 days of `daily` meals a year; the site made) and
/// `invite(email, insees)` (a commune manager's invitation code); and a scratch folder `tmp` for
/// the files the test writes. The browser, the server (its database too) and `tmp` are gone
/// once `fn` ends.
export async function withMetropolis({ admin, demo = true }, fn) {
  const server = await Server.start({ ASSIETTE_ADMIN_EMAIL: admin.email, ASSIETTE_ADMIN_PASSWORD: admin.password, ASSIETTE_DEMO: demo ? "1" : "0" });
  const browser = await launchBrowser();
  const tmp = mkdtempSync(join(tmpdir(), "assiette-e2e-files-"));
  try {
    const { token } = await api(server, "/admin/login", admin);
    const commune = (insee, name) => api(server, "/admin/communes", { insee_code: insee, name }, token);
    const site = (name, siret, insee, { management = "direct", daily = 150 } = {}) =>
      api(
        server,
        "/admin/sites",
        { name, siret, commune_insee: insee, management_type: management, production_type: "site", sectors: ["education_primaire"], daily_meal_count: daily, yearly_meal_count: daily * 140 },
        token,
      );
    const invite = async (email, communes) => (await api(server, "/admin/invitations", { email, communes }, token)).code;
    return await fn({ server, browser, token, commune, site, invite, tmp });
  } finally {
    await browser.close();
    await server.dispose();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/// A new browser context signed in on the territory bundle (/territoire/) as `who` ({ email,
/// password }), the service worker in control first; `options` add to the context's.
export async function signInTerritory(browser, server, who, options = {}) {
  const context = await browser.newContext({ locale: "fr-FR", viewport: { width: 1280, height: 900 }, ...options });
  const page = await openApp(context, `${server.url}/territoire/connexion`);
  await waitForServiceWorker(page);
  await page.fill("#email", who.email);
  await page.fill("#password", who.password);
  await page.click("[data-testid=sign-in]");
  await page.waitForSelector(`[data-testid=signed-in][data-email='${who.email}']`, { timeout: 30_000 });
  return { context, page };
}

/// A SIRET with its Luhn check digit, from its first 13 digits.
export function siret(first13) {
  for (let d = 0; d <= 9; d++) {
    const digits = [...`${first13}${d}`].map(Number);
    const sum = digits.reduce((s, x, i) => s + (i % 2 === digits.length % 2 ? (x * 2 > 9 ? x * 2 - 9 : x * 2) : x), 0);
    if (sum % 10 === 0) return `${first13}${d}`;
  }
  throw new Error("no check digit");
}

// WCAG 2.0, 2.1 and 2.2, levels A and AA (axe has no rule tagged wcag22a, and refuses a tag
// no rule has).
export const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

let axeCache;
/// axe-core's script, read once; run in a page, it sets window.axe.
export function axeSource() {
  axeCache ??= readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");
  return axeCache;
}

/// axe-core's WCAG A/AA violations on a Playwright page (none expected), as « rule: targets ».
export async function axe(page) {
  if (!(await page.evaluate("typeof window.axe === 'object'"))) await page.evaluate(axeSource());
  return page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
    return r.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  }, AXE_TAGS);
}

/// Waits for the header's count of entries waiting for the server (refreshed after each write);
/// when it does not come, fails saying `what` and the count shown.
export async function waitPending(page, n, what) {
  try {
    await page.waitForFunction((n) => document.querySelector("[data-pending]")?.dataset.pending === String(n), n, { timeout: 20_000 });
  } catch {
    assertEqual(await page.getAttribute("[data-pending]", "data-pending"), String(n), what);
  }
}

/// Types a purchase in the open form of « Achats » (office bundle) and waits for its note.
export async function typePurchase(page, { description, supplier, family, price, labels = [] }) {
  await page.fill("#p-description", description);
  await page.fill("#p-supplier", supplier);
  await page.selectOption("#p-family", family);
  await page.fill("#p-price", price);
  for (const l of labels) await page.check(`[data-label=${l}]`);
  await page.click("[data-testid=save-purchase]");
  await page.waitForSelector(`[data-testid=purchases-note]:has-text('${description}')`);
}

/// Names the site this device works for in « Réglages » (office bundle): its name and SIRET.
export async function saveSiteProfile(page, name, siret) {
  await page.click('nav.tabs a:has-text("Réglages")');
  await page.waitForSelector("body[data-ready]");
  await page.waitForFunction(() => (document.querySelector("#name")?.value ?? "") !== "");
  await page.fill("#name", name);
  await page.fill("#siret", siret);
  await page.click("button:has-text('Enregistrer le profil')");
  await page.waitForSelector("[data-testid=profile-saved]:has-text('enregistré')");
}

/// Adds a weighing on the kitchen's « Aujourd'hui » screen (mass in kg, as typed).
export async function addWeighing(page, stage, component, kg) {
  await page.click(`[data-stage=${stage}]`);
  await page.click(`[data-component=${component}]`);
  await page.fill("#mass", kg);
  const before = await page.locator("li.weighing").count();
  await page.click("button:has-text('Enregistrer la pesée')");
  // The note may still say « enregistré » from the previous save: the weighing is saved once
  // the day's list, read back from IndexedDB, has one more row.
  await page.waitForFunction((n) => document.querySelectorAll("li.weighing").length > n, before);
}
