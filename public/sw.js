// Assiette's service worker. The build (scripts/sw-precache.mjs, a Trunk post-build hook)
// replaces the two placeholders below with the hashed build output and a version derived
// from its content, so every release gets a new cache and a new worker.
const VERSION = "__ASSIETTE_VERSION__";
const PRECACHE = __ASSIETTE_PRECACHE__;
const CACHE = `assiette-${VERSION}`;

self.addEventListener("install", (event) => {
  // No skipWaiting here: a new version waits until the cook taps "Mettre à jour".
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)));
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
    // Every route of the app is the same shell: serve it from the cache, offline or not.
    event.respondWith(
      caches.open(CACHE).then(async (cache) => (await cache.match("/index.html")) || fetch(request)),
    );
    return;
  }
  event.respondWith(
    caches.open(CACHE).then(async (cache) => (await cache.match(request)) || fetch(request)),
  );
});
