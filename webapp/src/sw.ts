// sw.ts is the service worker (built by build.mjs into dist/sw.js, served
// at /sw.js so its scope is the whole app). It keeps the app shell —
// index.html, the hashed bundles, the icons and the manifest — in a cache
// named after the build, so the app opens with no network and the
// Downloads page can list and play what OPFS holds. It never touches /api:
// data and downloads go to the network (or fail) as they would without it.
//
// Pages: network first, and the cached shell when the network fails or
// does not answer within NAV_TIMEOUT_MS (a server that hangs is as
// offline as one that refuses). Shell files: cache first.

/** SHELL and VERSION are written in by build.mjs. */
declare const __SHELL__: string[];
declare const __VERSION__: string;

// Minimal service worker typings: the app's tsconfig has the DOM library,
// which cannot be mixed with WebWorker's.
interface ExtendableEvent extends Event {
  waitUntil(p: Promise<unknown>): void;
}
interface FetchEvent extends ExtendableEvent {
  request: Request;
  respondWith(r: Response | Promise<Response>): void;
}
interface SWScope {
  addEventListener(type: "install" | "activate", fn: (e: ExtendableEvent) => void): void;
  addEventListener(type: "fetch", fn: (e: FetchEvent) => void): void;
  skipWaiting(): Promise<void>;
  clients: { claim(): Promise<void> };
  location: Location;
}

const sw = self as unknown as SWScope;
const CACHE = `marquee-shell-${__VERSION__}`;
const NAV_TIMEOUT_MS = 3000;

sw.addEventListener("install", (e) => {
  e.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll(__SHELL__))
      .then(() => sw.skipWaiting()),
  );
});

sw.addEventListener("activate", (e) => {
  e.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("marquee-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => sw.clients.claim()),
  );
});

sw.addEventListener("fetch", (e) => {
  const req = e.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== sw.location.origin || url.pathname === "/api" || url.pathname.startsWith("/api/")) return;
  if (req.mode === "navigate") {
    e.respondWith(page(req));
    return;
  }
  if (url.pathname.startsWith("/assets/") || __SHELL__.includes(url.pathname)) e.respondWith(shellFile(req));
});

async function page(req: Request): Promise<Response> {
  const cached = caches.open(CACHE).then((c) => c.match("/"));
  try {
    const res = await Promise.race([
      fetch(req),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error("no answer")), NAV_TIMEOUT_MS)),
    ]);
    if (res.ok || !(await cached)) return res;
    // a server error page would hide the offline app; the shell routes on the client
    return (await cached)!;
  } catch (err) {
    const shell = await cached;
    if (shell) return shell;
    throw err;
  }
}

async function shellFile(req: Request): Promise<Response> {
  const hit = await caches.match(req, { cacheName: CACHE });
  return hit ?? fetch(req);
}
