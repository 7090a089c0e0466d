// One small page API over three browser engines, so one scenario runs in each:
//   chromium: Debian Chromium through playwright-core (CDP), as in harness.mjs;
//   firefox:  Debian Firefox ESR through puppeteer-core over WebDriver BiDi;
//   webkit:   WebKitGTK's MiniBrowser through WebKitWebDriver (under xvfb-run), plain W3C
//             WebDriver over HTTP with Node's fetch.
//
//   const page = await openEngine("firefox", { viewport: { width: 800, height: 1280 }, locale: "fr-FR" });
//   await page.goto(url); await page.click(byText("button", "Enregistrer")); await page.close();
//
// Selectors are CSS strings, or byText(css, text): the first element matching css whose
// text contains text. click/fill/value/text wait (10 s by default) for a visible match.
// Functions given to evaluate/waitForFunction run in the page: they must not use variables of
// this file (they are sent as source); their argument and result must be JSON values.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AXE_TAGS, axeSource, freePort, launchBrowser, sleep } from "./harness.mjs";

export const ENGINES = ["chromium", "firefox", "webkit"];

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const FIREFOX = process.env.FIREFOX || "/usr/bin/firefox-esr";
const WEBKIT_DRIVER = process.env.WEBKIT_DRIVER || "/usr/bin/WebKitWebDriver";
const MINIBROWSER = process.env.MINIBROWSER || "/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser";
const XVFB_RUN = "/usr/bin/xvfb-run";

const DEFAULT_TIMEOUT = 10_000;

/// A selector that matches the first element of `css` whose text contains `text`.
export function byText(css, text) {
  return { css, text };
}

const describe = (sel) => (typeof sel === "string" ? sel : `${sel.css} with text « ${sel.text} »`);

/// Opens a fresh browser (own profile) of engine `name` with one page.
export async function openEngine(name, { viewport = { width: 800, height: 1280 }, locale = "fr-FR" } = {}) {
  const open = { chromium: openChromium, firefox: openFirefox, webkit: openWebKit }[name];
  if (!open) throw new Error(`unknown engine « ${name} » (one of ${ENGINES.join(", ")})`);
  const backend = await open({ viewport, locale });
  return new EnginePage(name, backend);
}

// --- The engine-independent part -------------------------------------------------------------

// In-page source: finds the first visible element for a selector (null if none).
const FIND = `(({ css, text }) => {
  const visible = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(e).visibility !== "hidden"; };
  const norm = (s) => s.replace(/[\\s\\u00a0\\u202f]+/g, " ").trim();
  return [...document.querySelectorAll(css)].find((e) => visible(e) && (text == null || norm(e.textContent).includes(norm(text)))) || null;
})`;

const fnSource = (fn) => (typeof fn === "function" ? fn.toString() : String(fn));
const call = (fn, arg) => `(${fnSource(fn)})(${arg === undefined ? "" : JSON.stringify(arg)})`;
const target = (sel) => (typeof sel === "string" ? { css: sel, text: null } : sel);

class EnginePage {
  constructor(name, backend) {
    this.name = name;
    this.b = backend;
    this.taps = 0;
    /// Uncaught page errors seen so far, as text (WebKit: collected in the page once loaded,
    /// with console.error calls; read at goto, reload and close).
    this.errors = backend.errors;
  }

  goto(url) {
    return this.b.goto(url);
  }

  reload() {
    return this.b.reload();
  }

  /// Runs fn(arg) in the page and returns its (awaited) JSON result.
  evaluate(fn, arg) {
    return this.b.evaluate(call(fn, arg));
  }

  /// Polls fn(arg) in the page until it returns a truthy value, and returns that value.
  async waitForFunction(fn, arg, { timeout = DEFAULT_TIMEOUT } = {}) {
    const expr = call(fn, arg);
    const deadline = Date.now() + timeout;
    let last;
    for (;;) {
      try {
        const v = await this.b.evaluate(expr);
        if (v) return v;
      } catch (e) {
        last = e; // a navigation in progress: try again
      }
      if (Date.now() > deadline) {
        throw new Error(`${this.name}: waitForFunction timed out after ${timeout} ms: ${fnSource(fn).slice(0, 200)}${last ? ` (last error: ${last.message})` : ""}`);
      }
      await sleep(100);
    }
  }

  /// Waits until an element matches (present in the DOM; visible if byText or visible: true).
  waitFor(selector, { timeout = DEFAULT_TIMEOUT, visible = false } = {}) {
    const t = target(selector);
    const check = visible || t.text != null ? `${FIND}(${JSON.stringify(t)}) !== null` : `document.querySelector(${JSON.stringify(t.css)}) !== null`;
    return this.waitForFunction(`() => ${check}`, undefined, { timeout }).catch(() => {
      throw Object.assign(new Error(`${this.name}: no ${visible ? "visible " : ""}element ${describe(selector)} after ${timeout} ms`), { notFound: true });
    });
  }

  // Waits for a visible element and returns the engine's handle to it.
  async element(selector, timeout = DEFAULT_TIMEOUT) {
    await this.waitFor(selector, { timeout, visible: true });
    const h = await this.b.handle(`${FIND}(${JSON.stringify(target(selector))})`);
    if (!h) throw new Error(`${this.name}: ${describe(selector)} vanished`);
    return h;
  }

  // Retries an action on a fresh handle while the element is re-rendered or covered.
  async act(selector, what, action, timeout = DEFAULT_TIMEOUT) {
    const deadline = Date.now() + timeout;
    for (;;) {
      try {
        return await action(await this.element(selector, Math.max(deadline - Date.now(), 1)));
      } catch (e) {
        if (e.notFound) throw new Error(`${this.name}: ${what} ${describe(selector)}: no visible element after ${timeout} ms`);
        if (Date.now() > deadline || !this.b.retryable(e)) throw new Error(`${this.name}: ${what} ${describe(selector)}: ${e.message}`);
        await sleep(100);
      }
    }
  }

  /// Clicks the element's centre with the engine's real pointer input.
  async click(selector, { timeout } = {}) {
    await this.act(selector, "click", (h) => this.b.click(h), timeout);
    this.taps++;
  }

  /// Replaces an input's value, firing `input` as a user's typing does: Firefox and WebKit
  /// clear the field and type key by key, Chromium uses Playwright's fill (one `input`). Date,
  /// time and select controls get their value set and `input` + `change` dispatched (typing
  /// into them depends on the engine and the locale). Throws if the value is not `text` after.
  async fill(selector, text, { timeout } = {}) {
    await this.act(
      selector,
      "fill",
      async (h) => {
        const type = await this.b.evaluateOn(h, "(e) => e.localName === 'select' ? 'select' : e.type");
        if (["date", "time", "datetime-local", "month", "week", "select"].includes(type)) {
          await this.b.evaluateOn(
            h,
            `(e) => { e.focus(); e.value = ${JSON.stringify(text)}; e.dispatchEvent(new Event("input", { bubbles: true })); e.dispatchEvent(new Event("change", { bubbles: true })); }`,
          );
        } else {
          await this.b.type(h, text);
        }
        const now = await this.b.evaluateOn(h, "(e) => e.value");
        if (now !== text) throw new Error(`value is « ${now} » after typing « ${text} »`);
      },
      timeout,
    );
  }

  /// The `value` of a form control.
  value(selector, { timeout } = {}) {
    return this.act(selector, "value of", (h) => this.b.evaluateOn(h, "(e) => e.value"), timeout);
  }

  /// The textContent of an element.
  text(selector, { timeout } = {}) {
    return this.act(selector, "text of", (h) => this.b.evaluateOn(h, "(e) => e.textContent"), timeout);
  }

  /// Sets the size of the page's viewport (CSS pixels).
  setViewport(width, height) {
    return this.b.setViewport(width, height);
  }

  /// Runs axe-core (WCAG 2.0/2.1/2.2 A and AA) on the page; returns its violations, each as
  /// { id, impact, help, helpUrl, nodes: [{ target, html, summary }] }.
  async axe({ tags = AXE_TAGS } = {}) {
    if (!(await this.b.evaluate("typeof window.axe === 'object'"))) await this.b.run(axeSource());
    return this.b.evaluate(
      call(
        async (tags) => {
          const r = await window.axe.run(document, { runOnly: { type: "tag", values: tags }, resultTypes: ["violations"] });
          return r.violations.map((v) => ({
            id: v.id,
            impact: v.impact,
            help: v.help,
            helpUrl: v.helpUrl,
            nodes: v.nodes.map((n) => ({ target: n.target.map(String), html: n.html, summary: n.failureSummary })),
          }));
        },
        tags,
      ),
    );
  }

  /// Closes the browser and removes its profile; safe to call twice.
  close() {
    return this.b.close();
  }
}

function requireFile(path, engine, hint) {
  if (!existsSync(path)) throw new Error(`${engine}: ${path} not found (${hint}; scripts/setup.sh installs it)`);
}

function profileDir(engine) {
  return mkdtempSync(join(tmpdir(), `assiette-${engine}-`));
}

// --- Chromium: playwright-core ----------------------------------------------------------------

async function openChromium({ viewport, locale }) {
  requireFile(CHROMIUM, "chromium", "apt-get install chromium");
  const browser = await launchBrowser();
  const errors = [];
  try {
    const context = await browser.newContext({ locale, viewport });
    const page = await context.newPage();
    page.on("pageerror", (e) => errors.push(e.message));
    return {
      errors,
      goto: async (url) => void (await page.goto(url)),
      reload: async () => void (await page.reload()),
      evaluate: (expr) => page.evaluate(expr),
      run: async (script) => void (await page.evaluate(script)),
      handle: async (expr) => (await page.evaluateHandle(expr)).asElement(),
      evaluateOn: (h, fn) => h.evaluate(new Function(`return ${fn}`)()),
      click: (h) => h.click({ timeout: 2_000 }),
      type: (h, text) => h.fill(text, { timeout: 2_000 }),
      setViewport: (width, height) => page.setViewportSize({ width, height }),
      retryable: (e) => /detached|not attached|not visible|intercepts pointer|not stable|Timeout/i.test(e.message),
      close: () => browser.close(),
    };
  } catch (e) {
    await browser.close();
    throw e;
  }
}

// --- Firefox: puppeteer-core over WebDriver BiDi ------------------------------------------------

async function openFirefox({ viewport, locale }) {
  requireFile(FIREFOX, "firefox", "apt-get install firefox-esr");
  let puppeteer;
  try {
    puppeteer = (await import("puppeteer-core")).default;
  } catch (e) {
    throw new Error(`firefox: puppeteer-core is not installed (npm ci): ${e.message}`);
  }
  const profile = profileDir("firefox");
  const errors = [];
  let browser;
  try {
    browser = await puppeteer.launch({
      browser: "firefox",
      executablePath: FIREFOX,
      headless: true,
      protocol: "webDriverBiDi",
      userDataDir: profile,
      defaultViewport: viewport,
      // Accept-Language; navigator.language and Intl come from the override below.
      extraPrefsFirefox: { "intl.accept_languages": `${locale},${locale.split("-")[0]}` },
    });
    const page = await browser.newPage();
    // BiDi's emulation.setLocaleOverride (Firefox ESR has en-US only, so prefs cannot make Intl
    // French). Puppeteer has no method for it: its BiDi session is used directly.
    const context = page.mainFrame().browsingContext;
    await context.userContext.browser.session.send("emulation.setLocaleOverride", { locale, contexts: [context.id] });
    page.on("pageerror", (e) => errors.push(e.message ?? String(e)));
    const evaluate = (expr) => page.evaluate(expr);
    let closed = false;
    return {
      errors,
      goto: async (url) => void (await page.goto(url, { waitUntil: "load" })),
      reload: async () => void (await page.reload({ waitUntil: "load" })),
      evaluate,
      run: async (script) => void (await page.evaluate(script)),
      handle: async (expr) => {
        const h = await page.evaluateHandle(expr);
        const el = h.asElement();
        if (!el) await h.dispose();
        return el;
      },
      evaluateOn: (h, fn) => h.evaluate(new Function(`return ${fn}`)()),
      click: (h) => h.click(),
      type: async (h, text) => {
        // Clear as a user would (select all, delete), then type key by key.
        await h.evaluate((e) => {
          e.focus();
          e.select?.();
        });
        await page.keyboard.press("Backspace");
        await h.type(text);
      },
      setViewport: (width, height) => page.setViewport({ width, height }),
      retryable: (e) => /detached|not.*(visible|clickable|attached)|no such (node|element)|stale|intercepted|not an HTMLElement/i.test(e.message),
      close: async () => {
        if (closed) return;
        closed = true;
        try {
          await browser.close();
        } finally {
          rmSync(profile, { recursive: true, force: true });
        }
      },
    };
  } catch (e) {
    await browser?.close().catch(() => {});
    rmSync(profile, { recursive: true, force: true });
    throw new Error(`firefox: ${e.message}`);
  }
}

// --- WebKit: WebKitWebDriver + MiniBrowser under Xvfb, W3C WebDriver over HTTP -----------------

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
const liveGroups = new Map(); // process group id → profile folder
let exitHookInstalled = false;

// Kills every process of the group started by spawn(..., { detached: true }).
function killGroup(pgid, signal) {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false; // no process left in the group
  }
}

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Whatever ends this process (a crash, a test left running at exit, Ctrl-C), no Xvfb,
  // driver or MiniBrowser is left behind: SIGTERM now (Xvfb then removes its lock files), and
  // a detached shell sends SIGKILL 3 s later to what remains.
  process.on("exit", () => {
    for (const [pgid, profile] of liveGroups) {
      if (killGroup(pgid, "SIGTERM")) {
        spawn("sh", ["-c", `sleep 3; kill -KILL -${pgid} 2>/dev/null`], { detached: true, stdio: "ignore" }).unref();
      }
      rmSync(profile, { recursive: true, force: true });
    }
  });
  for (const sig of ["SIGINT", "SIGTERM"]) process.once(sig, () => process.exit(sig === "SIGINT" ? 130 : 143));
}

// Stops `xvfb-run CMD` started detached. xvfb-run (a dash script) only removes Xvfb and its
// auth file when CMD exits, not on a signal of its own: so the driver is stopped first, then
// anything left in the process group (MiniBrowser, WebKit's processes, Xvfb).
async function stopXvfbRun(proc) {
  const pgid = proc.pid;
  const exited = proc.exitCode !== null || proc.signalCode !== null ? Promise.resolve() : new Promise((ok) => proc.once("exit", ok));
  let children = [];
  try {
    children = readFileSync(`/proc/${pgid}/task/${pgid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {}
  for (const pid of children) {
    let comm = "";
    try {
      comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    } catch {}
    if (comm !== "Xvfb") {
      try {
        process.kill(pid, "SIGTERM");
      } catch {}
    }
  }
  if (!(await Promise.race([exited.then(() => true), sleep(5_000)]))) killGroup(pgid, "SIGTERM");
  const deadline = Date.now() + 3_000;
  while (killGroup(pgid, 0) && Date.now() < deadline) await sleep(100);
  killGroup(pgid, "SIGKILL");
  liveGroups.delete(pgid);
}

// A glibc locale for MiniBrowser (navigator.language and Intl follow setlocale): when the
// system lacks it, compiled once per process into a temporary folder (no root needed, ~2 s).
// Returns the environment to add.
const localeEnvs = new Map();
function webkitLocaleEnv(locale) {
  if (localeEnvs.has(locale)) return localeEnvs.get(locale);
  const posix = `${locale.replace("-", "_")}.UTF-8`;
  const installed = spawnSync("locale", ["-a"], { encoding: "utf8" }).stdout ?? "";
  let env = { LANG: posix };
  if (!installed.toLowerCase().split("\n").includes(posix.toLowerCase().replace("utf-8", "utf8"))) {
    const dir = mkdtempSync(join(tmpdir(), "assiette-locale-"));
    process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
    const r = spawnSync("localedef", ["-i", locale.replace("-", "_"), "-f", "UTF-8", join(dir, posix)], { encoding: "utf8" });
    if (existsSync(join(dir, posix, "LC_CTYPE"))) {
      env = { LOCPATH: dir, LANG: posix };
    } else {
      console.error(`  [webkit] no ${posix} locale (localedef: ${(r.stderr || r.error?.message || "").trim()}): navigator.language stays the default`);
      env = {};
    }
  }
  localeEnvs.set(locale, env);
  return env;
}

async function openWebKit({ viewport, locale }) {
  requireFile(WEBKIT_DRIVER, "webkit", "apt-get install webkit2gtk-driver");
  requireFile(MINIBROWSER, "webkit", "apt-get install webkit2gtk-driver (MiniBrowser comes with libwebkit2gtk-4.1)");
  requireFile(XVFB_RUN, "webkit", "apt-get install xvfb");
  installExitHook();
  const profile = profileDir("webkit");
  const errors = [];
  let output = "";
  let proc;
  let sessionPath;
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;

  async function wd(method, path, body, timeout = 60_000) {
    let res;
    try {
      res = await fetch(base + path, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json; charset=utf-8" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(timeout),
      });
    } catch (e) {
      throw new Error(`WebDriver ${method} ${path}: ${e.cause?.message ?? e.message}`);
    }
    const json = await res.json().catch(() => ({ value: { error: `HTTP ${res.status}`, message: "not JSON" } }));
    if (!res.ok || json.value?.error) throw new Error(`WebDriver ${method} ${path}: ${json.value?.error}: ${json.value?.message}`);
    return json.value;
  }
  const S = (path) => `${sessionPath}${path}`;
  // WebDriver scripts are function bodies; a returned promise is awaited.
  const evaluate = (expr) => wd("POST", S("/execute/sync"), { script: `return (${expr});`, args: [] });

  // Errors are collected in the page (WebKitWebDriver has no log events), from the end of
  // each load: errors thrown while the page loads are not seen.
  const COLLECT = `(() => {
    if (window.__engineErrors) return;
    const errs = (window.__engineErrors = []);
    addEventListener("error", (e) => errs.push(String(e.message)));
    addEventListener("unhandledrejection", (e) => errs.push("unhandled rejection: " + String(e.reason)));
    const ce = console.error;
    console.error = (...a) => { errs.push(a.map(String).join(" ")); ce.apply(console, a); };
  })()`;
  const drainErrors = async () => {
    try {
      errors.push(...((await evaluate("(window.__engineErrors || []).splice(0)")) ?? []));
    } catch {}
  };

  let closed = false;
  async function close() {
    if (closed) return;
    closed = true;
    if (sessionPath) {
      await drainErrors();
      await wd("DELETE", sessionPath, undefined, 5_000).catch(() => {});
    }
    if (proc) await stopXvfbRun(proc);
    rmSync(profile, { recursive: true, force: true });
  }

  try {
    // A profile of our own. MiniBrowser in automation mode keeps web data (IndexedDB, service
    // workers, caches) in memory for the session; GTK, Mesa and GStreamer caches go here.
    const env = {
      ...process.env,
      HOME: profile,
      TMPDIR: profile, // xvfb-run's auth file too
      XDG_DATA_HOME: join(profile, "data"),
      XDG_CACHE_HOME: join(profile, "cache"),
      XDG_CONFIG_HOME: join(profile, "config"),
      NO_AT_BRIDGE: "1",
      ...webkitLocaleEnv(locale),
    };
    proc = spawn(XVFB_RUN, ["-a", "-s", "-screen 0 1920x1920x24 -nolisten tcp", WEBKIT_DRIVER, `--port=${port}`], {
      env,
      detached: true, // own process group: close() kills xvfb-run, Xvfb, the driver and MiniBrowser
      stdio: ["ignore", "pipe", "pipe"],
    });
    liveGroups.set(proc.pid, profile);
    const onData = (d) => {
      output += d;
    };
    proc.stdout.on("data", onData);
    proc.stderr.on("data", onData);
    const exited = new Promise((_, ko) => proc.once("exit", (c, s) => ko(new Error(`WebKitWebDriver exited (${c ?? s}):\n${output}`))));
    exited.catch(() => {});
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        const status = await Promise.race([wd("GET", "/status", undefined, 1_000), exited]);
        if (status.ready) break;
      } catch (e) {
        if (e.message.startsWith("WebKitWebDriver exited")) throw e;
      }
      if (Date.now() > deadline) throw new Error(`WebKitWebDriver did not answer on port ${port} within 20 s:\n${output}`);
      await sleep(100);
    }
    const session = await wd(
      "POST",
      "/session",
      {
        capabilities: {
          alwaysMatch: {
            browserName: "MiniBrowser",
            "webkitgtk:browserOptions": { binary: MINIBROWSER, args: ["--automation"] },
          },
        },
      },
      30_000,
    ).catch((e) => {
      throw new Error(`MiniBrowser did not start (${e.message})${output ? `:\n${output}` : ""}`);
    });
    sessionPath = `/session/${session.sessionId}`;
    await wd("POST", S("/timeouts"), { script: 60_000, pageLoad: 60_000, implicit: 0 });

    // The window rect includes MiniBrowser's toolbar: size the window so the page gets the
    // viewport asked for.
    async function setViewport(width, height) {
      let w = width;
      let h = height;
      // The window manager applies a new size a little later: read the page's size once it
      // has settled (two equal readings), then correct by the difference.
      const settled = async () => {
        let last = await evaluate("[window.innerWidth, window.innerHeight]");
        for (let t = 0; t < 20; t++) {
          await sleep(50);
          const now = await evaluate("[window.innerWidth, window.innerHeight]");
          if (now[0] === last[0] && now[1] === last[1]) return now;
          last = now;
        }
        return last;
      };
      for (let i = 0; i < 6; i++) {
        await wd("POST", S("/window/rect"), { width: w, height: h });
        const [iw, ih] = await settled();
        if (iw === width && ih === height) return;
        w += width - iw;
        h += height - ih;
      }
      const [iw, ih] = await evaluate("[window.innerWidth, window.innerHeight]");
      throw new Error(`setViewport(${width}, ${height}): the page gets ${iw}×${ih} (MiniBrowser's window has a minimum size, its toolbar's width)`);
    }
    await setViewport(viewport.width, viewport.height);

    return {
      errors,
      goto: async (url) => {
        await drainErrors();
        await wd("POST", S("/url"), { url });
        await evaluate(COLLECT);
      },
      reload: async () => {
        await drainErrors();
        await wd("POST", S("/refresh"), {});
        await evaluate(COLLECT);
      },
      evaluate,
      run: async (script) => void (await wd("POST", S("/execute/sync"), { script, args: [] })),
      handle: async (expr) => {
        const v = await evaluate(expr);
        return v && v[ELEMENT] ? v[ELEMENT] : null;
      },
      evaluateOn: (id, fn) => wd("POST", S("/execute/sync"), { script: `return (${fn})(arguments[0]);`, args: [{ [ELEMENT]: id }] }),
      click: (id) => wd("POST", S(`/element/${id}/click`), {}),
      type: async (id, text) => {
        // Element Clear empties the field without an `input` event (WebKit): sent as a
        // user's deletion would, then the text is typed key by key.
        await wd("POST", S(`/element/${id}/clear`), {});
        await wd("POST", S("/execute/sync"), { script: `arguments[0].dispatchEvent(new Event("input", { bubbles: true }));`, args: [{ [ELEMENT]: id }] });
        // An empty text is a field emptied: WebKitWebDriver refuses an empty key sequence.
        if (text !== "") await wd("POST", S(`/element/${id}/value`), { text });
      },
      setViewport,
      retryable: (e) => /stale element|element click intercepted|element not interactable|no such element/i.test(e.message),
      close,
    };
  } catch (e) {
    await close();
    throw new Error(`webkit: ${e.message}`);
  }
}
