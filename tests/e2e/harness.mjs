// Shared pieces of the end-to-end tests: the real server binary on a free port with a fresh
// SQLite database, and headless Debian Chromium driven by playwright-core.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
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
