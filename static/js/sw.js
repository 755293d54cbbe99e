// Réinventons service worker: makes the site installable and gives a friendly page offline.
//
// What it keeps: the offline page, static assets (CSS, scripts, icons) and the city's colours
// (/brand.css?v=..., versioned by its content, so a stored copy is never stale), nothing else.
// HTML pages, the API, account and notification pages and every non-GET request always go to
// the network and are never stored: they can hold personal data, and must be fresh.
"use strict";

const VERSION = "v1";
const STATIC_CACHE = "reinventons-static-" + VERSION;
const OFFLINE_URL = "/offline";
const PRECACHE = [
  "/static/css/app.css",
  "/static/js/app.js",
  "/static/img/icon.svg",
];
// The offline page's own link to the city's colours: a versioned /brand.css, kept with it.
const BRAND_CSS = /href="(\/brand\.css\?v=[0-9a-f]+)"/;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(STATIC_CACHE);
    // Without cookies: the stored offline page is the anonymous one, with nobody's name in it.
    const offline = await fetch(new Request(OFFLINE_URL, { credentials: "omit" }));
    const brand = BRAND_CSS.exec(await offline.clone().text());
    await cache.put(OFFLINE_URL, offline);
    await cache.addAll(brand ? PRECACHE.concat([brand[1]]) : PRECACHE);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith("reinventons-") && n !== STATIC_CACHE)
      .map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

async function pageOrOffline(request) {
  try {
    return await fetch(request);
  } catch (error) {
    const offline = await caches.match(OFFLINE_URL, { cacheName: STATIC_CACHE });
    return offline || Response.error();
  }
}

async function staticCacheFirst(request) {
  const cache = await caches.open(STATIC_CACHE);
  const cached = await cache.match(request);
  if (cached) {
    return cached;
  }
  const response = await fetch(request);
  if (response.ok && response.type === "basic") {
    cache.put(request, response.clone());
  }
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") {
    return; // network only: forms, votes, API writes
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate") {
    event.respondWith(pageOrOffline(request)); // network only, never stored
    return;
  }
  if (url.pathname.startsWith("/static/") || (url.pathname === "/brand.css" && url.searchParams.has("v"))) {
    event.respondWith(staticCacheFirst(request));
  }
  // Everything else (API, /account, /notifications, media) goes to the network untouched.
});
