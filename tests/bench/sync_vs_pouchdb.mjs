// Side-by-side sync benchmark (issue 5, item 6): our server (release build) against the reference
// offline-sync server, pouchdb-server 4.2 (npm, LevelDB, no fsync), in one run, on loopback.
// For each run and each server: push N documents in batches of B (ours: /api/v1/sync/push, every
// batch committed durably; pouchdb: POST /db/_bulk_docs), then page through the N changes by 1000
// (ours: /api/v1/sync/pull; pouchdb: /db/_changes?limit=1000&since=...). Prints medians and ratios.
//
// A third line, the client's floor: the same client loops against a server that does nothing
// (canned replies of the same sizes, gzip-compressed ahead of time when the client accepts it),
// so what each server adds to the client's own fetch, gzip and JSON work can be read off.
//
// Usage: node tests/bench/sync_vs_pouchdb.mjs
// Environment:
//   BENCH_N (default 10000), BENCH_BATCH (1000), BENCH_RUNS (3): documents, batch size, repetitions;
//   BENCH_CLIENT: http (default, node:http keep-alive) or fetch (Node's fetch): see `request`;
//   ASSIETTE_SERVER_BIN: our binary (default $CARGO_TARGET_DIR or ./target, release/assiette-server;
//     built with `cargo build --release -p assiette-server` when missing);
//   ASSIETTE_TEST_POSTGRES_URL: also measure our server on PostgreSQL (`eval "$(scripts/pg.sh start)"`);
//   POUCHDB_SERVER_DIR: a folder where pouchdb-server@4.2 is installed (default: installed with
//     `npm install --no-save pouchdb-server@4.2` into a temporary folder, never into the project).
// Bounded: every loop has a fixed count, every request a timeout; servers are stopped at the end.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { Agent as httpAgent, request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { loadavg, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync, inflateSync } from "node:zlib";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "../..");
const N = Number(process.env.BENCH_N || 10000);
const BATCH = Number(process.env.BENCH_BATCH || 1000);
const RUNS = Number(process.env.BENCH_RUNS || 3);
const PAGE = 1000;
const REQUEST_TIMEOUT_MS = 60_000;
const DEMO_SITE_ID = "01900000-7635-7000-8000-021760351500";
const DEMO_CODE = "BNCH-2345";
const TARGET = process.env.CARGO_TARGET_DIR || join(ROOT, "target");
const SERVER_BIN = process.env.ASSIETTE_SERVER_BIN || join(TARGET, "release/assiette-server");

const work = mkdtempSync(join(tmpdir(), "assiette-sync-vs-pouchdb-"));
const children = new Set();

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// The client used for every timed request. `http` (default): node:http with one keep-alive
// connection per server, gzip/deflate decoded with zlib, the whole body read then parsed.
// `fetch`: Node's fetch (undici), which alone costs several ms per request and per MB (on
// this machine ~8 ms per 1000-change page, more than our server): measured with it, every
// server looks closer to the client's own floor. Both send the same Accept-Encoding.
const CLIENT = process.env.BENCH_CLIENT || "http";
if (!["http", "fetch"].includes(CLIENT)) throw new Error(`BENCH_CLIENT=${CLIENT}: http or fetch`);
const agents = new Map();

async function request(url, opts = {}) {
  return CLIENT === "fetch" ? requestFetch(url, opts) : requestHttp(url, opts);
}

async function requestFetch(url, { method = "GET", headers = {}, body } = {}) {
  const res = await fetch(url, {
    method,
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

function requestHttp(url, { method = "GET", headers = {}, body } = {}) {
  const u = new URL(url);
  let agent = agents.get(u.host);
  if (!agent) agents.set(u.host, (agent = new httpAgent({ keepAlive: true, maxSockets: 1 })));
  const data = body === undefined ? null : Buffer.from(JSON.stringify(body));
  const head = { "accept-encoding": "gzip, deflate", ...headers };
  if (data) Object.assign(head, { "content-type": "application/json", "content-length": data.length });
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname + u.search, method, agent, headers: head }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        try {
          let raw = Buffer.concat(chunks);
          const enc = res.headers["content-encoding"];
          if (enc === "gzip") raw = gunzipSync(raw);
          else if (enc === "deflate") raw = inflateSync(raw);
          const text = raw.toString("utf8");
          if (res.statusCode < 200 || res.statusCode > 299) throw new Error(`${method} ${url}: HTTP ${res.statusCode} ${text.slice(0, 300)}`);
          resolve(JSON.parse(text));
        } catch (e) {
          reject(e);
        }
      });
    });
    req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error(`${method} ${url}: no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on("error", reject);
    req.end(data ?? undefined);
  });
}

function startProcess(cmd, args, opts) {
  const proc = spawn(cmd, args, { stdio: ["ignore", "pipe", "pipe"], ...opts });
  let log = "";
  const keep = (d) => {
    log = (log + d).slice(-4000);
  };
  proc.stdout.on("data", keep);
  proc.stderr.on("data", keep);
  children.add(proc);
  proc.on("exit", () => children.delete(proc));
  return { proc, log: () => log };
}

async function stopProcess(p) {
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return;
  const exited = new Promise((r) => p.proc.once("exit", r));
  p.proc.kill("SIGTERM");
  if ((await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)])) === false) {
    p.proc.kill("SIGKILL");
    await exited;
  }
}

async function waitUntilUp(url, p, what) {
  for (let i = 0; i < 300; i++) {
    if (p.proc.exitCode !== null) throw new Error(`${what} stopped at start:\n${p.log()}`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${what} not up after 30 s:\n${p.log()}`);
}

// A UUID v7 (time-ordered), as the tablets make them.
function uuidv7() {
  const b = randomBytes(16);
  const ms = BigInt(Date.now());
  for (let i = 0; i < 6; i++) b[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  b[6] = (b[6] & 0x0f) | 0x70;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

// The same N weighings for both servers (pouchdb gets them as plain documents with _id).
function weighings(n) {
  const stages = ["preparation", "unserved", "leftovers"];
  const first = Date.UTC(2025, 8, 1);
  const now = new Date().toISOString();
  return Array.from({ length: n }, (_, i) => ({
    kind: "weighing",
    meta: { id: uuidv7(), revision: 1, deleted: false, modified_at: now },
    site_id: DEMO_SITE_ID,
    service_date: new Date(first + (i % 200) * 86_400_000).toISOString().slice(0, 10),
    stage: stages[i % 3],
    component: null,
    mass_grams: 100 + i,
    sorted: null,
    destination: null,
  }));
}

// ---------- our server ----------

function ensureOurBinary() {
  if (existsSync(SERVER_BIN)) return;
  console.log(`Construction du serveur (release) : cargo build --release -p assiette-server …`);
  const r = spawnSync("cargo", ["build", "--release", "-p", "assiette-server"], { cwd: ROOT, stdio: "inherit" });
  if (r.status !== 0 || !existsSync(SERVER_BIN)) throw new Error(`build failed, no ${SERVER_BIN}`);
}

function psql(baseUrl, sql) {
  const dir = spawnSync("sh", ["-c", "ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1"]).stdout.toString().trim();
  const r = spawnSync(dir ? join(dir, "psql") : "psql", [baseUrl, "-q", "-c", sql], { encoding: "utf8", timeout: 60_000 });
  if (r.status !== 0) throw new Error(`${sql}: ${r.stderr}`);
}

// A fresh database per run (dropped after it), so every run starts empty like the SQLite file.
async function withPostgresDb(baseUrl, name, body) {
  psql(baseUrl, `CREATE DATABASE ${name}`);
  try {
    return await body(baseUrl.replace(/\/[^/]*$/, `/${name}`));
  } finally {
    psql(baseUrl, `DROP DATABASE IF EXISTS ${name}`);
  }
}

async function runOurs(databaseUrl, docs) {
  const port = await freePort();
  const p = startProcess(SERVER_BIN, ["serve"], {
    cwd: work,
    env: {
      ...process.env,
      ASSIETTE_PORT: String(port),
      DATABASE_URL: databaseUrl,
      ASSIETTE_STATIC_DIR: join(work, "no-dist"),
      ASSIETTE_DEMO: "1",
      ASSIETTE_DEMO_ENROLMENT_CODE: DEMO_CODE,
      RUST_LOG: "warn",
    },
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitUntilUp(`${base}/api/v1/health`, p, "assiette-server");
    const dev = await request(`${base}/api/v1/enrol`, { method: "POST", body: { code: DEMO_CODE, label: "bench" } });
    const auth = { authorization: `Bearer ${dev.token}` };
    const batches = [];
    for (let i = 0; i < docs.length; i += BATCH) {
      batches.push({
        device_id: dev.device_id,
        mutations: docs.slice(i, i + BATCH).map((record, j) => ({ seq: i + j + 1, record })),
      });
    }
    let t = performance.now();
    let applied = 0;
    for (const b of batches) {
      const r = await request(`${base}/api/v1/sync/push`, { method: "POST", headers: auth, body: b });
      applied += r.results.filter((x) => x.status === "applied").length;
    }
    const pushS = (performance.now() - t) / 1000;
    if (applied !== docs.length) throw new Error(`ours: ${applied} applied of ${docs.length}`);

    t = performance.now();
    let cursor = null;
    let pulled = 0;
    for (let page = 0; page <= Math.ceil(docs.length / PAGE) + 1; page++) {
      const r = await request(`${base}/api/v1/sync/pull`, { method: "POST", headers: auth, body: { cursor, limit: PAGE } });
      pulled += r.changes.length;
      cursor = r.next_cursor;
      if (!r.has_more) break;
    }
    const pullS = (performance.now() - t) / 1000;
    if (pulled !== docs.length) throw new Error(`ours: pulled ${pulled} of ${docs.length}`);
    return { pushS, pullS };
  } finally {
    await stopProcess(p);
  }
}

// ---------- the client's floor: a server that does nothing ----------

// Canned replies the size of ours: N "applied" results per push batch, pull pages of PAGE
// changes of the same records with their server fields. Runs in its own process (node), so it
// does not share the client's event loop.
const FLOOR_SERVER = `
import { createServer } from "node:http";
import { gzipSync } from "node:zlib";
const [port, batch, page, total, site] = process.argv.slice(2);
const now = new Date().toISOString();
const hex = (n) => [...crypto.getRandomValues(new Uint8Array(n))].map((b) => b.toString(16).padStart(2, "0")).join("");
const pushReply = JSON.stringify({ results: Array.from({ length: Number(batch) }, (_, i) => ({ seq: i + 1, status: "applied", server_seq: i + 1, server_updated_at: now })) });
const stages = ["preparation", "unserved", "leftovers"];
const pageReply = (more) => JSON.stringify({
  changes: Array.from({ length: Number(page) }, (_, i) => ({ server_seq: i + 1, record: { kind: "weighing",
    meta: { id: hex(4) + "-" + hex(2) + "-7" + hex(2).slice(1) + "-8" + hex(2).slice(1) + "-" + hex(6), revision: 1, deleted: false, modified_at: now, server_updated_at: now },
    site_id: site, service_date: "2025-09-01", stage: stages[i % 3], component: null, mass_grams: 100 + i, sorted: null, destination: null } })),
  next_cursor: "v1.1", has_more: more });
const bodies = { push: pushReply, more: pageReply(true), last: pageReply(false) };
const gz = Object.fromEntries(Object.entries(bodies).map(([k, v]) => [k, gzipSync(v, { level: 1 })]));
const pages = Math.ceil(Number(total) / Number(page));
let served = 0;
createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    let key = "push";
    if (req.url.endsWith("/enrol")) key = null;
    else if (req.url.endsWith("/pull")) key = ++served % pages === 0 ? "last" : "more";
    const zip = key && /gzip/.test(req.headers["accept-encoding"] || "");
    const body = key ? (zip ? gz[key] : bodies[key]) : JSON.stringify({ device_id: "floor", token: "floor" });
    res.writeHead(200, { "content-type": "application/json", ...(zip ? { "content-encoding": "gzip" } : {}) });
    res.end(body);
  });
}).listen(Number(port), "127.0.0.1");
`;

async function runFloor(docs) {
  const file = join(work, "floor-server.mjs");
  if (!existsSync(file)) writeFileSync(file, FLOOR_SERVER);
  const port = await freePort();
  const p = startProcess(process.execPath, [file, String(port), String(BATCH), String(PAGE), String(docs.length), DEMO_SITE_ID], { cwd: work });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 300; i++) {
      try {
        await request(`${base}/api/v1/enrol`, { method: "POST", body: {} });
        break;
      } catch {
        if (p.proc.exitCode !== null) throw new Error(`floor server stopped:\n${p.log()}`);
        await sleep(100);
      }
    }
    const batches = [];
    for (let i = 0; i < docs.length; i += BATCH) {
      batches.push({ device_id: "floor", mutations: docs.slice(i, i + BATCH).map((record, j) => ({ seq: i + j + 1, record })) });
    }
    let t = performance.now();
    for (const b of batches) {
      const r = await request(`${base}/api/v1/sync/push`, { method: "POST", headers: { authorization: "Bearer floor" }, body: b });
      if (r.results.length !== BATCH) throw new Error("floor: short reply");
    }
    const pushS = (performance.now() - t) / 1000;
    t = performance.now();
    let cursor = null;
    let pulled = 0;
    for (let page = 0; page <= Math.ceil(docs.length / PAGE) + 1; page++) {
      const r = await request(`${base}/api/v1/sync/pull`, { method: "POST", headers: { authorization: "Bearer floor" }, body: { cursor, limit: PAGE } });
      pulled += r.changes.length;
      cursor = r.next_cursor;
      if (!r.has_more) break;
    }
    const pullS = (performance.now() - t) / 1000;
    if (pulled !== Math.ceil(docs.length / PAGE) * PAGE) throw new Error(`floor: pulled ${pulled}`);
    return { pushS, pullS };
  } finally {
    await stopProcess(p);
  }
}

// ---------- pouchdb-server ----------

function pouchdbServerDir() {
  const dir = process.env.POUCHDB_SERVER_DIR || join(tmpdir(), "assiette-bench-pouchdb-server");
  const bin = join(dir, "node_modules/.bin/pouchdb-server");
  if (existsSync(bin)) return { bin };
  mkdirSync(dir, { recursive: true });
  if (!existsSync(join(dir, "package.json"))) writeFileSync(join(dir, "package.json"), '{"name":"bench-pouchdb","private":true}\n');
  console.log(`Installation de pouchdb-server@4.2 dans ${dir} (npm install --no-save) …`);
  const r = spawnSync("npm", ["install", "--no-save", "--no-audit", "--no-fund", "pouchdb-server@4.2"], {
    cwd: dir,
    encoding: "utf8",
    timeout: 900_000,
  });
  if (r.status !== 0 || !existsSync(bin)) return { error: `npm install pouchdb-server@4.2 a échoué : ${(r.stderr || "").slice(-800)}` };
  return { bin };
}

async function startPouch(bin) {
  const dir = join(work, "pouchdb");
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  // LevelDB (leveldown) on disk, as the reference; pouchdb-server never asks it to fsync.
  const p = startProcess(process.execPath, [bin, "--host", "127.0.0.1", "--port", String(port), "--dir", dir, "--config", join(dir, "config.json"), "--no-stdout-logs"], { cwd: dir });
  const base = `http://127.0.0.1:${port}`;
  await waitUntilUp(`${base}/`, p, "pouchdb-server");
  const info = await request(`${base}/`);
  return { p, base, version: info.version || "?" };
}

async function runPouch(base, run, docs) {
  const db = `${base}/bench_${run}`;
  await request(db, { method: "PUT" });
  let t = performance.now();
  let ok = 0;
  for (let i = 0; i < docs.length; i += BATCH) {
    const batch = docs.slice(i, i + BATCH).map((d) => ({ _id: d.meta.id, ...d }));
    const r = await request(`${db}/_bulk_docs`, { method: "POST", body: { docs: batch } });
    ok += r.filter((x) => x.ok).length;
  }
  const pushS = (performance.now() - t) / 1000;
  if (ok !== docs.length) throw new Error(`pouchdb: ${ok} written of ${docs.length}`);

  t = performance.now();
  let since = 0;
  let pulled = 0;
  for (let page = 0; page <= Math.ceil(docs.length / PAGE) + 1; page++) {
    const r = await request(`${db}/_changes?limit=${PAGE}&since=${encodeURIComponent(since)}&include_docs=true`);
    pulled += r.results.length;
    since = r.last_seq;
    if (r.results.length < PAGE) break;
  }
  const pullS = (performance.now() - t) / 1000;
  if (pulled !== docs.length) throw new Error(`pouchdb: ${pulled} changes of ${docs.length}`);
  return { pushS, pullS };
}

// ---------- main ----------

function line(name, runs) {
  const push = median(runs.map((r) => r.pushS));
  const pull = median(runs.map((r) => r.pullS));
  return { name, push, pull, rate: N / push };
}

const load = () => loadavg().map((x) => x.toFixed(2)).join(" ");

async function main() {
  console.log(`Synchronisation : ${N} documents, lots de ${BATCH}, pages de ${PAGE}, ${RUNS} passes (médianes), boucle locale, client ${CLIENT === "http" ? "node:http" : "fetch"}.`);
  console.log(`Charge de la machine au début (1, 5, 15 min) : ${load()}`);
  ensureOurBinary();
  const pouch = pouchdbServerDir();
  let pouchServer = null;
  if (pouch.error) {
    console.log(`pouchdb-server : NON MESURÉ — ${pouch.error}`);
  } else {
    try {
      pouchServer = await startPouch(pouch.bin);
    } catch (e) {
      console.log(`pouchdb-server : NON MESURÉ — démarrage impossible (module LevelDB ?) : ${e.message.slice(0, 800)}`);
    }
  }
  const results = { sqlite: [], postgres: [], pouch: [], floor: [] };
  const pg = process.env.ASSIETTE_TEST_POSTGRES_URL;
  for (let run = 0; run < RUNS; run++) {
    const docs = weighings(N);
    results.sqlite.push(await runOurs(`sqlite://${join(work, `run${run}`, "assiette.sqlite3")}`, docs));
    if (pg) results.postgres.push(await withPostgresDb(pg, `assiette_vs_pouch_${process.pid}_${run}`, (url) => runOurs(url, docs)));
    if (pouchServer) results.pouch.push(await runPouch(pouchServer.base, run, docs));
    results.floor.push(await runFloor(docs));
  }
  if (pouchServer) await stopProcess(pouchServer.p);

  const rows = [line("Assiette SQLite (fsync)", results.sqlite)];
  if (pg) rows.push(line("Assiette PostgreSQL (fsync)", results.postgres));
  else console.log("Assiette PostgreSQL : ignoré (ASSIETTE_TEST_POSTGRES_URL non défini)");
  const ref = pouchServer ? line(`pouchdb-server ${pouchServer.version} (LevelDB, sans fsync)`, results.pouch) : null;
  if (ref) rows.push(ref);
  console.log("");
  console.log(`${"serveur".padEnd(46)} ${"envoi (docs/s)".padStart(15)} ${`lecture ${N} chgts`.padStart(20)}`);
  for (const r of rows) {
    let s = `${r.name.padEnd(46)} ${r.rate.toFixed(0).padStart(15)} ${`${r.pull.toFixed(3)} s`.padStart(20)}`;
    if (ref && r !== ref) s += `   × ${(r.rate / ref.rate).toFixed(1)} en envoi, × ${(ref.pull / r.pull).toFixed(1)} en lecture`;
    console.log(s);
  }
  if (!ref) console.log("Pas de comparaison : pouchdb-server n'a pas pu être mesuré (voir plus haut).");
  const floor = line("plancher du client (serveur qui ne fait rien)", results.floor);
  console.log(`${floor.name.padEnd(46)} ${floor.rate.toFixed(0).padStart(15)} ${`${floor.pull.toFixed(3)} s`.padStart(20)}`);
  console.log("Part des serveurs (temps mesuré − plancher du client, médianes) :");
  for (const r of rows) {
    console.log(`  ${r.name.padEnd(44)} envoi ${((r.push - floor.push) * 1000).toFixed(0).padStart(5)} ms, lecture ${((r.pull - floor.pull) * 1000).toFixed(0).padStart(5)} ms`);
  }
  console.log(`Charge de la machine à la fin (1, 5, 15 min) : ${load()}`);
}

async function cleanup() {
  for (const agent of agents.values()) agent.destroy();
  await Promise.all([...children].map((proc) => stopProcess({ proc })));
  rmSync(work, { recursive: true, force: true });
}

try {
  await main();
} catch (e) {
  console.error(e.stack || String(e));
  process.exitCode = 1;
} finally {
  await cleanup();
}
