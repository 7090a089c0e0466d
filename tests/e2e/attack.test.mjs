// The attacker's replay: the real server binary (the build under test, SQLite in a temporary
// folder, loopback only), attacked over real sockets the ways issue "Hardening" found it
// failing, each attack asserting the behaviour that closed the hole. Bounded: every socket and
// request has a deadline; the slow clients run beside the other attacks (≈ 65 s in all, the
// server's own 60 s request timeout being the longest wait).
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Server, SERVER_BIN, STATIC_DIR, assert, assertEqual, sleep } from "./harness.mjs";

const ADMIN = { email: "securite@example.org", password: "un-mot-de-passe-tres-long" };
const SECRET = "Mdp-Qui-Ne-Doit-Pas-Fuir-42";
const SITE_SIRET = "21691230000011";
const DAY = "2026-03-02";

/// A JSON request; the reply's status and body (parsed when it is JSON). Never throws on a
/// refusal: the attacks look at refusals.
async function call(server, method, path, { body, token, raw, headers = {} } = {}) {
  const r = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      ...(body !== undefined || raw !== undefined ? { "content-type": "application/json" } : {}),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await r.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: r.status, headers: r.headers, text, json };
}

async function ok(server, method, path, opts) {
  const r = await call(server, method, path, opts);
  assert(r.status >= 200 && r.status < 300, `${method} ${path}: ${r.status} ${r.text.slice(0, 500)}`);
  return r.json;
}

/// A fresh UUID v7-shaped id (the server only needs a non-nil UUID).
let idCounter = 0;
function uuid() {
  idCounter++;
  return `0192f0c1-8c9e-7b1a-9a55-${idCounter.toString(16).padStart(12, "0")}`;
}

function meta(id, extra = {}) {
  return { id, revision: 1, modified_at: "2026-03-02T09:00:00Z", ...extra };
}

function weighing(site, extra = {}) {
  return { kind: "weighing", meta: meta(uuid()), site_id: site, service_date: DAY, stage: "leftovers", mass_grams: 1200, ...extra };
}

function purchase(extra = {}) {
  return {
    kind: "purchase",
    meta: meta(uuid()),
    siret: SITE_SIRET,
    description: "Pommes",
    fournisseur: "Ferme du Val",
    date: DAY,
    prix_ht_cents: 1250,
    famille_produits: "FRUITS_ET_LEGUMES",
    caracteristiques: [],
    ...extra,
  };
}

/// The tablet's push: the HTTP status and, on 200, each mutation's result.
class Device {
  constructor(server, enrolled) {
    this.server = server;
    this.token = enrolled.token;
    this.id = enrolled.device_id;
    this.site = enrolled.site.id;
    this.seq = 0;
  }

  /// `rewrite` edits the body's text (numbers JavaScript cannot write).
  async push(records, seqs, rewrite = (text) => text) {
    const mutations = records.map((record, i) => ({ seq: seqs ? seqs[i] : ++this.seq, record }));
    const raw = rewrite(JSON.stringify({ device_id: this.id, mutations }));
    const r = await call(this.server, "POST", "/api/v1/sync/push", { token: this.token, raw });
    return { status: r.status, results: r.json?.results, json: r.json, mutations };
  }

  async pullAll(limit = 500) {
    const records = new Map();
    let cursor = null;
    const pages = [];
    for (;;) {
      const r = await call(this.server, "POST", "/api/v1/sync/pull", { token: this.token, body: { cursor, limit } });
      assertEqual(r.status, 200, `pull: ${r.text.slice(0, 300)}`);
      pages.push({ bytes: r.text.length, count: r.json.changes.length });
      for (const c of r.json.changes) records.set(c.record.meta.id, c.record);
      cursor = r.json.next_cursor;
      if (!r.json.has_more) return { records, pages };
    }
  }
}

function rejected(result, fragment) {
  assertEqual(result.status, "rejected", `expected a refusal (${fragment}), got ${JSON.stringify(result).slice(0, 300)}`);
  assert(result.reason.includes(fragment), `refusal « ${result.reason} » should say « ${fragment} »`);
}

/// A static folder with the app's page and what must never be served: dotfiles, and links
/// leading out of the folder.
function staticFolder(root) {
  const dir = join(root, "static");
  const outside = join(root, "outside");
  mkdirSync(join(dir, ".git"), { recursive: true });
  mkdirSync(join(dir, "icons"), { recursive: true });
  mkdirSync(outside);
  const index = join(STATIC_DIR, "index.html");
  if (existsSync(index)) copyFileSync(index, join(dir, "index.html"));
  else writeFileSync(join(dir, "index.html"), "<!doctype html><title>Assiette</title>");
  writeFileSync(join(dir, ".env"), `DATABASE_URL=postgres://u:${SECRET}@h/db`);
  writeFileSync(join(dir, ".git/config"), SECRET);
  writeFileSync(join(dir, "icons/.hidden.png"), SECRET);
  writeFileSync(join(outside, "passwd"), SECRET);
  symlinkSync(join(outside, "passwd"), join(dir, "leak.txt"));
  symlinkSync(outside, join(dir, "etc"));
  return dir;
}

/// Opens a raw connection; resolves once connected.
function rawSocket(server) {
  return new Promise((ok, ko) => {
    const s = connect(server.port, "127.0.0.1", () => ok(s));
    s.once("error", ko);
  });
}

/// Resolves with what the server sent and when it closed the connection (ms after `since`),
/// or rejects after `limitMs`.
function closedBy(socket, since, limitMs) {
  return new Promise((ok, ko) => {
    let got = "";
    const timer = setTimeout(() => ko(new Error(`connection still open after ${limitMs} ms`)), limitMs);
    socket.on("data", (d) => (got += d));
    socket.on("error", () => {});
    socket.once("close", () => {
      clearTimeout(timer);
      ok({ got, after: Date.now() - since });
    });
  });
}

/// Item 6: slow clients, run beside the other attacks. The server's defaults: 15 s for the
/// headers, 60 s for a whole request; the server runs with 256 file descriptors.
function slowClients(server) {
  const since = Date.now();
  const connected = async (f) => f(await rawSocket(server));
  // Connected, nothing sent.
  const idle = connected((s) => closedBy(s, since, 30_000));
  // Headers a line per second, never finished.
  const headers = connected((s) => {
    s.write("POST /api/v1/sync/pull HTTP/1.1\r\nHost: x\r\n");
    const t = setInterval(() => s.writable && s.write("X-A: b\r\n"), 1000);
    return closedBy(s, since, 30_000).finally(() => clearInterval(t));
  });
  // A body trickled a byte every 5 s: 408 once the request has taken 60 s.
  const body = connected((s) => {
    s.write("POST /api/v1/enrol HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{");
    const t = setInterval(() => s.writable && s.write(" "), 5000);
    return closedBy(s, since, 80_000).finally(() => clearInterval(t));
  });
  return { idle, headers, body, since };
}

/// Item 6: 300 idle sockets against a server holding 256 file descriptors; a real request
/// still gets its answer once the header timeout has cut the idle ones off.
async function socketFlood(server) {
  const sockets = [];
  for (let i = 0; i < 300; i++) {
    const s = connect(server.port, "127.0.0.1");
    s.on("error", () => {});
    sockets.push(s);
  }
  await sleep(500);
  const start = Date.now();
  try {
    const r = await call(server, "GET", "/api/v1/health");
    assertEqual(r.status, 200, "health behind 300 idle sockets");
    assert(Date.now() - start < 40_000, `answered after ${Date.now() - start} ms`);
  } finally {
    for (const s of sockets) s.destroy();
  }
}

/// The attacked canteen, « École des Pentes » in Lyon, registered by the administrator.
async function addSite(adminCall) {
  const site = await adminCall("POST", "/api/v1/admin/sites", {
    name: "École des Pentes",
    siret: SITE_SIRET,
    commune_insee: "69123",
    management_type: "direct",
    production_type: "site",
    sectors: ["education_primaire"],
    daily_meal_count: 150,
    yearly_meal_count: 21000,
  });
  assertEqual(site.status, 201, `site: ${site.text}`);
  return site;
}

/// Every check of one running server (items 1, 4, 5, 7, 8 and 9).
async function attack(server, staticDir) {
  const { token: admin } = await ok(server, "POST", "/api/v1/admin/login", { body: ADMIN });
  const adminCall = (method, path, body) => call(server, method, path, { token: admin, body });
  const commune = await adminCall("POST", "/api/v1/admin/communes", { insee_code: "69123", name: "Lyon" });
  assertEqual(commune.status, 201, `commune: ${commune.text}`);
  const site = await addSite(adminCall);
  const enrol = async (label) => {
    const { code } = await ok(server, "POST", `/api/v1/admin/sites/${site.json.id}/enrolment-codes`, { token: admin, body: { label } });
    return new Device(server, await ok(server, "POST", "/api/v1/enrol", { body: { code, label } }));
  };
  const tablet = await enrol("cuisine");

  // Item 1: timestamps far from today are refused at the door, one mutation at a time; the
  // batch goes through and can be replayed (it used to answer 503 for good).
  {
    const good = weighing(tablet.site);
    const far = [
      weighing(tablet.site, { meta: meta(uuid(), { modified_at: "0000-01-01T00:00:00+01:00" }) }),
      weighing(tablet.site, { meta: meta(uuid(), { modified_at: "9999-12-31T23:59:59-23:59" }) }),
      weighing(tablet.site, { meta: meta(uuid(), { modified_at: "1999-12-31T23:59:59Z" }) }),
    ];
    const first = await tablet.push([far[0], good, far[1], far[2]]);
    assertEqual(first.status, 200, `far timestamps: ${JSON.stringify(first.json)}`);
    for (const i of [0, 2, 3]) rejected(first.results[i], "Date de modification");
    assertEqual(first.results[1].status, "applied", "the good weighing beside them");
    // The same batch again, and a deletion of a far one: answered, never 503.
    const again = await tablet.push(first.mutations.map((m) => m.record), first.mutations.map((m) => m.seq));
    assertEqual(again.status, 200, "replay");
    assertEqual(again.results[1].status, "duplicate", "the good one, replayed");
    const tomb = { ...far[0], meta: { ...far[0].meta, revision: 2, deleted: true } };
    const del = await tablet.push([tomb]);
    assertEqual(del.status, 200, "deleting a refused record");
    rejected(del.results[0], "Date de modification");
  }

  // Item 4: sizes. A 1 MB description and a 900 KB supplier are refused (the body is under
  // the 2 MB limit); a body over it is 413; pull pages stay near 1 MB however many rows.
  {
    const big = purchase({ description: "d".repeat(1_000_000), fournisseur: "f".repeat(900_000) });
    const r = await tablet.push([big]);
    assertEqual(r.status, 200, "a 1.9 MB purchase");
    rejected(r.results[0], "caractères");
    const tooBig = await call(server, "POST", "/api/v1/sync/push", {
      token: tablet.token,
      raw: JSON.stringify({ device_id: tablet.id, mutations: [{ seq: 1, record: purchase({ description: "x".repeat(2_200_000) }) }] }),
    });
    assertEqual(tooBig.status, 413, "a 2.2 MB body");
    assert(/[àéè]/.test(tooBig.json?.error ?? ""), `413 in French: ${tooBig.text}`);
    // 1,000 purchases at the text limits (≈ 1.6 kB each as JSON): one push, then pages of
    // at most 1 MB (plus one record) even when 5,000 rows are asked for.
    const full = Array.from({ length: 1000 }, () => purchase({ description: "é".repeat(500), fournisseur: "è".repeat(200) }));
    const pushed = await tablet.push(full);
    assertEqual(pushed.status, 200, `1,000 purchases: ${JSON.stringify(pushed.json)?.slice(0, 300)}`);
    assert(pushed.results.every((x) => x.status === "applied"), "all 1,000 applied");
    const reader = await enrol("lecture");
    const { pages } = await reader.pullAll(5000);
    assert(pages.length >= 2, `pages: ${JSON.stringify(pages)}`);
    for (const p of pages) assert(p.bytes < 1024 * 1024 + 4096, `a pull page of ${p.bytes} bytes`);
  }

  // Item 5: a deletion keeps only what a deletion needs; junk in a tombstone is never stored.
  {
    const w = weighing(tablet.site, { mass_grams: 750 });
    const p = purchase({ description: "Yaourts", prix_ht_cents: 4200 });
    assertEqual((await tablet.push([w, p])).results.map((x) => x.status), ["applied", "applied"], "records to delete");
    const wTomb = { ...w, meta: { ...w.meta, revision: 2, deleted: true }, mass_grams: 424242, service_date: "0000-01-01" };
    const pTomb = {
      ...p,
      meta: { ...p.meta, revision: 2, deleted: true },
      description: "x".repeat(400_000),
      prix_ht_cents: -5,
      date: "0000-01-01",
    };
    const r = await tablet.push([wTomb, pTomb], null, (t) => t.replace('"mass_grams":424242', '"mass_grams":18446744073709551615'));
    assertEqual(r.results.map((x) => x.status), ["applied", "applied"], `tombstones: ${JSON.stringify(r.json).slice(0, 400)}`);
    // A tombstone for an id the server never had is checked like any record.
    const orphan = purchase({ meta: meta(uuid(), { deleted: true }), prix_ht_cents: -5 });
    rejected((await tablet.push([orphan])).results[0], "prix");
    const { records } = await (await enrol("contrôle")).pullAll();
    const sw = records.get(w.meta.id);
    const sp = records.get(p.meta.id);
    assert(sw.meta.deleted && sw.meta.revision === 2, `stored weighing tombstone: ${JSON.stringify(sw)}`);
    assertEqual([sw.mass_grams, sw.service_date], [750, DAY], "the weighing's stored content");
    assert(sp.meta.deleted && sp.meta.revision === 2, "stored purchase tombstone");
    assertEqual([sp.description, sp.prix_ht_cents, sp.date], ["Yaourts", 4200, DAY], "the purchase's stored content");
    assert(!records.has(orphan.meta.id), "the orphan tombstone was not stored");
  }

  // Item 7: text that should never be stored, a SIRET with a tab, year 0, numbers past 2^53.
  {
    const cases = [
      [purchase({ description: "Pommes\u0000" }), "caractère"],
      [purchase({ description: "Pommes \u001b[31m" }), "caractère"],
      [purchase({ fournisseur: "Ferme \u202eliaV ud" }), "caractère"],
      [purchase({ description: "Pommes\u2028Poires" }), "caractère"],
      [purchase({ siret: "2169123\t0000011" }), "SIRET"],
      [purchase({ date: "0000-01-01" }), "date"],
      [purchase({ prix_ht_cents: 2 ** 62 }), "prix"],
      [weighing(tablet.site, { meta: meta(uuid(), { revision: 2 ** 53 }) }), "Révision"],
    ];
    const r = await tablet.push(cases.map(([record]) => record));
    assertEqual(r.status, 200, `hostile texts: ${JSON.stringify(r.json)?.slice(0, 300)}`);
    cases.forEach(([, fragment], i) => {
      const res = r.results[i];
      assertEqual(res.status, "rejected", `case ${i}: ${JSON.stringify(res)}`);
      assert(res.reason.toLowerCase().includes(fragment.toLowerCase()), `case ${i}: « ${res.reason} » should say « ${fragment} »`);
    });
    // Numbers past 2^63 are not even read; a sequence past 2^53 is refused.
    const huge = await tablet.push([weighing(tablet.site)], null, (t) => t.replace('"mass_grams":1200', '"mass_grams":18446744073709551616'));
    assertEqual(huge.status, 422, `mass 2^64: ${JSON.stringify(huge.json)}`);
    const seq = await tablet.push([weighing(tablet.site)], [2 ** 53 + 2]);
    rejected(seq.results[0], "séquence");
    // Device labels and commune names: the same rules.
    const label = await call(server, "POST", `/api/v1/admin/sites/${site.json.id}/enrolment-codes`, {
      token: admin,
      body: { label: "Tablette\u202e\u0007" },
    });
    assertEqual(label.status, 422, `a device label with control characters: ${label.text}`);
    const town = await adminCall("POST", "/api/v1/admin/communes", { insee_code: "69381", name: "Lyon 1er\u0000\u202e" });
    assertEqual(town.status, 422, `a commune name with control characters: ${town.text}`);
  }

  // Item 8: a refused login whose e-mail forges a log line, carries an escape sequence and
  // weighs 1 MB leaves one short, escaped line; refusals don't name Rust types.
  {
    const forged = `x@y.fr\n2026-12-02T00:00:00.000000Z  INFO assiette_server: admin logged in\u001b[2J${"z".repeat(1_000_000)}`;
    const before = server.output.length;
    const r = await call(server, "POST", "/api/v1/admin/login", { body: { email: forged, password: "mauvais" } });
    assertEqual(r.status, 401, "forged login");
    await sleep(200);
    const written = server.output.slice(before);
    assert(written.includes("admin login refused"), `the refusal is logged: ${written.slice(0, 300)}`);
    // (The server's own colours are escape sequences too: only the attacker's counts.)
    assert(!written.includes("\u001b[2J"), `the attacker's escape sequence reached the log: ${JSON.stringify(written)}`);
    assert(!written.split("\n").some((l) => l.startsWith("2026-12-02T00:00:00.000000Z")), "a forged log line");
    assert(written.length < 2000, `${written.length} bytes logged for one refusal`);
    for (const body of [{ device_id: tablet.id }, { device_id: "pas un uuid", mutations: [] }, { device_id: tablet.id, mutations: [{ seq: 1.5, record: weighing(tablet.site) }] }]) {
      const e = await call(server, "POST", "/api/v1/sync/push", { token: tablet.token, body });
      assertEqual(e.status, 422, JSON.stringify(body));
      for (const rust of ["struct", "enum", "u64", "Uuid", "PushRequest", "RecordPayload"]) {
        assert(!e.json.error.includes(rust), `« ${rust} » in ${e.json.error}`);
      }
    }
  }

  // Item 9: security headers on every answer, and nothing served outside the app.
  {
    const index = await call(server, "GET", "/");
    assertEqual(index.status, 200, "index");
    const csp = index.headers.get("content-security-policy") ?? "";
    for (const part of ["default-src 'self'", "'wasm-unsafe-eval'", "frame-ancestors 'none'", "base-uri 'self'", "style-src 'self'"]) {
      assert(csp.includes(part), `CSP « ${csp} » lacks ${part}`);
    }
    assert(!csp.includes("unsafe-inline"), `CSP allows inline code: ${csp}`);
    // Every inline script of the served page is allowed by its hash (the app runs under it).
    for (const m of index.text.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)) {
      const hash = createHash("sha256").update(m[1]).digest("base64");
      assert(csp.includes(`'sha256-${hash}'`), `inline script without its hash in the CSP`);
    }
    for (const path of ["/", "/historique", "/api/v1/health", "/api/v1/nope", "/.env", "/leak.txt"]) {
      const r = await call(server, "GET", path);
      assertEqual(r.headers.get("x-content-type-options"), "nosniff", `${path} nosniff`);
      assertEqual(r.headers.get("x-frame-options"), "DENY", `${path} frame`);
      assertEqual(r.headers.get("referrer-policy"), "no-referrer", `${path} referrer`);
      assert(r.headers.get("content-security-policy"), `${path} CSP`);
    }
    for (const path of ["/.env", "/.git/config", "/%2eenv", "/icons/.hidden.png", "/leak.txt", "/etc/passwd", "/etc/", "/..%2f..%2fetc/passwd"]) {
      for (const gzip of [false, true]) {
        const r = await call(server, "GET", path, { headers: gzip ? { "accept-encoding": "gzip" } : {} });
        assert(r.status === 404 || r.status === 400, `${path}: ${r.status}`);
        assert(!r.text.includes(SECRET), `${path} leaked the secret`);
      }
    }
    assert(existsSync(join(staticDir, ".env")), "the dotfile was there to be served");
  }
  return { admin };
}

/// Item 8: the `DATABASE_URL` password is never printed, at start or by `create-admin`, whether
/// the address cannot be read or the database cannot be reached (run beside the other attacks:
/// the driver tries to connect for up to 30 s).
function databasePassword() {
  const run = (args, url) =>
    new Promise((ok, ko) => {
      const p = spawn(SERVER_BIN, args, {
        env: { ...process.env, DATABASE_URL: url, ASSIETTE_PORT: "0", ASSIETTE_ADMIN_PASSWORD: ADMIN.password, RUST_LOG: "debug" },
        stdio: ["ignore", "pipe", "pipe"],
      });
      let text = "";
      p.stdout.on("data", (d) => (text += d));
      p.stderr.on("data", (d) => (text += d));
      // The driver gives up after 30 s; a loaded machine (a CI run's browsers beside it) gets
      // three times that. Once timed out, the kill's exit is not judged: the timeout says why.
      let timedOut = false;
      const t = setTimeout(() => {
        timedOut = true;
        p.kill("SIGKILL");
        ko(new Error(`${args[0]} still running after 90 s:\n${text}`));
      }, 90_000);
      p.once("exit", (code) => {
        clearTimeout(t);
        if (timedOut) return;
        assert(code !== 0, `${args[0]} on ${url.replace(SECRET, "***")} succeeded`);
        assert(text.includes("***"), `${args[0]} shows the address without its password:\n${text}`);
        assert(!text.includes(SECRET), `${args[0]} printed the password:\n${text}`);
        ok();
      });
    });
  const unreadable = `postgres://assiette:${SECRET}@[::1/assiette`;
  const unreachable = `postgres://assiette:${SECRET}@127.0.0.1:1/assiette`;
  return Promise.all(
    [["serve"], ["create-admin", ADMIN.email]].flatMap((args) => [run(args, unreadable), run(args, unreachable)]),
  );
}

/// Item 8: a new password (`create-admin` on the same database) ends the old sessions.
async function passwordChange(server, admin) {
  assertEqual((await call(server, "GET", "/api/v1/admin/sites", { token: admin })).status, 200, "session before");
  const out = await new Promise((ok) => {
    const p = spawn(SERVER_BIN, ["create-admin", ADMIN.email], {
      env: { ...process.env, DATABASE_URL: `sqlite://${join(server.dataDir, "assiette.sqlite3")}`, ASSIETTE_ADMIN_PASSWORD: `${ADMIN.password}-2` },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let text = "";
    p.stdout.on("data", (d) => (text += d));
    p.stderr.on("data", (d) => (text += d));
    p.once("exit", (code) => ok({ code, text }));
  });
  assertEqual(out.code, 0, `create-admin: ${out.text}`);
  assertEqual((await call(server, "GET", "/api/v1/admin/sites", { token: admin })).status, 401, "the old session after a new password");
}

/// Resident memory of a process, in MiB (Linux).
function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

/// A fresh client address for `X-Forwarded-For` (the server trusts loopback as its proxy here).
let forwarded = 0;
function nextAddress() {
  forwarded++;
  return `10.${(forwarded >> 16) & 255}.${(forwarded >> 8) & 255}.${forwarded & 255}`;
}

function throttled(r, what) {
  assertEqual(r.status, 429, `${what}: ${r.text.slice(0, 300)}`);
  const wait = Number(r.headers.get("retry-after"));
  assert(Number.isInteger(wait) && wait >= 1, `${what}: Retry-After « ${r.headers.get("retry-after")} »`);
  assert(/réessayez/i.test(r.json?.error ?? ""), `${what}: a French message saying when to retry: ${r.text}`);
  return r.json.code;
}

/// Items 2 and 3, against a server behind a trusted proxy (loopback), so that the attacker can
/// come from as many addresses as it likes.
async function guessing(server) {
  const login = (email, password, address) =>
    call(server, "POST", "/api/v1/admin/login", { body: { email, password }, headers: address ? { "x-forwarded-for": address } : {} });

  // Item 2, one address: its burst of wrong passwords, then 429 with Retry-After.
  const one = nextAddress();
  for (let i = 0; i < 10; i++) assertEqual((await login(`personne${i}@example.org`, "pas-le-bon-mot-de-passe", one)).status, 401, `wrong login ${i}`);
  assertEqual(throttled(await login("personne@example.org", "pas-le-bon-mot-de-passe", one), "the 11th wrong login from one address"), "too_many_attempts");
  // One account from many addresses: its own burst, then 429 (the owner waits too: the trade-off).
  for (let i = 0; i < 5; i++) assertEqual((await login(ADMIN.email, `mauvais-mot-de-passe-${i}`, nextAddress())).status, 401, `wrong password ${i}`);
  throttled(await login(ADMIN.email, "mauvais-mot-de-passe-6", nextAddress()), "the 6th wrong password on one account");

  // Item 2, the flood that took gigabytes: 16 clients, each request from a new address on a new
  // account (no throttle applies), for 6 s. Password checks beyond the workers are refused at
  // once (429 server_busy), and memory stays bounded.
  const before = rssMiB(server.proc.pid);
  let peak = before;
  const counts = new Map();
  const until = Date.now() + 6_000;
  await Promise.all(
    Array.from({ length: 16 }, async (_, k) => {
      for (let i = 0; Date.now() < until; i++) {
        const r = await login(`flood-${k}-${i}@example.org`, "pas-le-bon-mot-de-passe", nextAddress());
        const key = r.status === 429 ? `429 ${r.json?.code}` : String(r.status);
        counts.set(key, (counts.get(key) ?? 0) + 1);
        if (r.status === 429) throttled(r, "a login refused while the workers are busy");
        peak = Math.max(peak, rssMiB(server.proc.pid));
      }
    }),
  );
  const summary = JSON.stringify(Object.fromEntries(counts));
  assert((counts.get("401") ?? 0) > 0, `some passwords were checked: ${summary}`);
  assert((counts.get("429 server_busy") ?? 0) > 0, `checks beyond the workers refused at once: ${summary}`);
  assert([...counts.keys()].every((k) => k === "401" || k === "429 server_busy"), `only refusals: ${summary}`);
  // 19 MiB per argon2 worker (a handful of cores) plus the server: far below the 1.4–3.2 GB of before.
  assert(peak - before < 200, `memory grew from ${before.toFixed(0)} to ${peak.toFixed(0)} MiB under the flood (${summary})`);
  // The real administrator gets in once the account's Retry-After has passed (the wrong
  // passwords above were on that account).
  let r = await login(ADMIN.email, ADMIN.password, nextAddress());
  if (r.status === 429) {
    await sleep(Number(r.headers.get("retry-after")) * 1000);
    r = await login(ADMIN.email, ADMIN.password, nextAddress());
  }
  assertEqual(r.status, 200, `the administrator's own login after the flood: ${r.text}`);
  const admin = r.json.token;

  // Item 3: a site and one live code.
  const adminCall = (method, path, body) => call(server, method, path, { token: admin, body });
  assertEqual((await adminCall("GET", "/api/v1/admin/sites")).json.length, 0, "a plain serve (ASSIETTE_DEMO unset) creates no demo canteen");
  assertEqual((await adminCall("POST", "/api/v1/admin/communes", { insee_code: "69123", name: "Lyon" })).status, 201, "commune");
  const site = await addSite(adminCall);
  const { code } = await ok(server, "POST", `/api/v1/admin/sites/${site.json.id}/enrolment-codes`, { token: admin, body: { label: "cuisine" } });
  const enrol = (guess, address) => call(server, "POST", "/api/v1/enrol", { body: { code: guess, label: "x" }, headers: { "x-forwarded-for": address } });
  const wrong = (i) => `ZZZZ-${String(i).padStart(4, "2").replace(/[01]/g, "2").slice(-4)}`;
  // One address: its burst of wrong codes, then 429 with Retry-After.
  const guesser = nextAddress();
  for (let i = 0; i < 20; i++) assertEqual((await enrol(wrong(i), guesser)).status, 401, `wrong code ${i}`);
  throttled(await enrol(code, guesser), "the 21st code from one address, even the right one");
  // Many addresses: the overall throttle (its burst of 60, minus the 20 above), then 429.
  let first429 = null;
  for (let i = 0; i < 80 && first429 === null; i++) {
    const r = await enrol(wrong(100 + i), nextAddress());
    if (r.status === 429) first429 = i;
    else assertEqual(r.status, 401, `wrong code from address ${i}`);
  }
  assert(first429 !== null && first429 <= 60, `the overall throttle stops a guesser with many addresses (429 after ${first429} guesses)`);
  // The code is stored as a keyed hash: neither it nor its plain SHA-256 is in the database.
  const plain = code.replace("-", "");
  const files = ["assiette.sqlite3", "assiette.sqlite3-wal"].map((f) => join(server.dataDir, f)).filter(existsSync);
  const bytes = Buffer.concat(files.map((f) => readFileSync(f))).toString("latin1");
  for (const shown of [plain, code, createHash("sha256").update(plain).digest("hex"), createHash("sha256").update(code).digest("hex")]) {
    assert(!bytes.includes(shown), `the database holds « ${shown} »`);
  }
}

export const tests = {
  "an attacker replays the hardening issue's items 1, 4–9 against the real server": async () => {
    const root = mkdtempSync(join(tmpdir(), "assiette-attack-"));
    // 256 file descriptors, as the server was starved with (item 6).
    const server = await Server.start(
      { ASSIETTE_ADMIN_EMAIL: ADMIN.email, ASSIETTE_ADMIN_PASSWORD: ADMIN.password, ASSIETTE_STATIC_DIR: staticFolder(root), RUST_LOG: "info" },
      { nofile: 256 },
    );
    try {
      const slow = slowClients(server);
      const secrets = databasePassword();
      // Awaited at the end; a failure before then must not end the process unhandled.
      for (const p of [slow.idle, slow.headers, slow.body, secrets]) p.catch(() => {});
      const { admin } = await attack(server, join(root, "static"));
      await socketFlood(server);
      await secrets;
      await passwordChange(server, admin);
      const idle = await slow.idle;
      assert(idle.after < 20_000, `an idle socket closed after ${idle.after} ms`);
      const headers = await slow.headers;
      assert(headers.after < 20_000, `trickled headers cut off after ${headers.after} ms`);
      const body = await slow.body;
      assert(body.got.startsWith("HTTP/1.1 408"), `a trickled body: ${body.got.slice(0, 200)}`);
      assert(body.after < 66_000, `a trickled body cut off after ${body.after} ms`);
      // The server still serves after all of it.
      assertEqual((await call(server, "GET", "/api/v1/health")).status, 200, "health at the end");
    } finally {
      await server.dispose();
      rmSync(root, { recursive: true, force: true });
    }
  },
  "an attacker guesses passwords and enrolment codes from many addresses (items 2 and 3)": async () => {
    const server = await Server.start({
      ASSIETTE_ADMIN_EMAIL: ADMIN.email,
      ASSIETTE_ADMIN_PASSWORD: ADMIN.password,
      ASSIETTE_TRUSTED_PROXIES: "127.0.0.1",
      ASSIETTE_DEMO: "0",
    });
    try {
      await guessing(server);
      assertEqual((await call(server, "GET", "/api/v1/health")).status, 200, "health at the end");
    } finally {
      await server.dispose();
    }
  },
};
