// Réinventons service worker: makes the site installable and gives a friendly page offline.
//
// What it keeps: the offline page and static assets (CSS, scripts, icons), nothing else.
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
  "/static/img/icon-192.png",
  "/static/manifest.webmanifest",
];

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(STATIC_CACHE);
    // Without cookies: the stored offline page is the anonymous one, with nobody's name in it.
    await cache.put(OFFLINE_URL, await fetch(new Request(OFFLINE_URL, { credentials: "omit" })));
    await cache.addAll(PRECACHE);
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
  if (url.pathname.startsWith("/static/")) {
    event.respondWith(staticCacheFirst(request));
  }
  // Everything else (API, /account, /notifications, media) goes to the network untouched.
});
