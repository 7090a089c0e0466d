// Assiette's service worker. The build (scripts/sw-precache.mjs, run by scripts/build.sh)
// replaces the four placeholders below with the hashed build output and a version derived
// from its content, so every release gets a new cache and a new worker.
const VERSION = "__ASSIETTE_VERSION__";
// The kitchen bundle: Today must open offline, so a worker without these never installs.
const PRECACHE = __ASSIETTE_PRECACHE__;
// The office bundle (/bureau/: charts, settings): cached after the kitchen's, but a failure
// there does not block the install; a file still missing is cached when first fetched.
const OFFICE = __ASSIETTE_OFFICE__;
// The territory bundle (/territoire/: the metropolis' overview), cached last, the same way.
const TERRITORY = __ASSIETTE_TERRITORY__;
const CACHE = `assiette-${VERSION}`;

self.addEventListener("install", (event) => {
  // No skipWaiting here: a new version waits until the cook taps "Mettre à jour".
  event.waitUntil(
    caches.open(CACHE).then(async (cache) => {
      await cache.addAll(PRECACHE);
      await cache.addAll(OFFICE).catch(() => {});
      await cache.addAll(TERRITORY).catch(() => {});
    }),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) {
        if (key.startsWith("assiette-") && key !== CACHE) await caches.delete(key);
      }
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("message", (event) => {
  if (event.data === "skip-waiting") self.skipWaiting();
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  // The API is never cached: sync must see the real network state.
  if (url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  if (request.mode === "navigate") {
    // Every route of a bundle is the same shell: serve it from the cache, offline or not.
    const shell = url.pathname.startsWith("/bureau/")
      ? "/bureau/index.html"
      : url.pathname === "/territoire" || url.pathname.startsWith("/territoire/")
        ? "/territoire/index.html"
        : "/index.html";
    event.respondWith(
      caches.open(CACHE).then(async (cache) => (await cache.match(shell)) || fetch(request)),
    );
    return;
  }
  event.respondWith(
    caches.open(CACHE).then(async (cache) => {
      const cached = await cache.match(request);
      if (cached) return cached;
      const response = await fetch(request);
      // An office file the install could not fetch: keep it for offline use.
      if (response.ok && (OFFICE.includes(url.pathname) || TERRITORY.includes(url.pathname))) await cache.put(request, response.clone());
      return response;
    }),
  );
});
