// router.ts is a tiny History-API router: the Go server answers every deep
// link with index.html, and this picks the page.
import { useEffect, useState } from "preact/hooks";

/** Route is the matched page and its parameters. */
export interface Route {
  name: "signin" | "library" | "item" | "watch" | "party" | "join" | "optimize" | "cdnnodes" | "downloads" | "notfound";
  params: Record<string, string>;
  query: URLSearchParams;
}

const patterns: [Route["name"], RegExp][] = [
  ["signin", /^\/signin\/?$/],
  ["library", /^\/(library\/?)?$/],
  ["item", /^\/items\/(?<id>\d+)\/?$/],
  ["watch", /^\/watch\/(?<id>\d+)\/?$/],
  ["party", /^\/party\/(?<id>[^/]+)\/?$/],
  ["join", /^\/join\/(?<token>[^/]+)\/?$/],
  ["optimize", /^\/admin\/optimize\/?$/],
  ["cdnnodes", /^\/admin\/cdn\/?$/],
  ["downloads", /^\/downloads\/?$/],
];

/** match maps a path to a route. */
export function match(path: string, search = ""): Route {
  const query = new URLSearchParams(search);
  for (const [name, re] of patterns) {
    const m = re.exec(path);
    if (m) {
      const params: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.groups ?? {})) params[k] = decodeURIComponent(v);
      return { name, params, query };
    }
  }
  return { name: "notfound", params: {}, query };
}

/** navigate changes page without a reload. */
export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  window.dispatchEvent(new Event("marquee:navigate"));
  window.scrollTo(0, 0);
}

/** useRoute re-renders on navigation and returns the current route. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => match(location.pathname, location.search));
  useEffect(() => {
    const on = () => setRoute(match(location.pathname, location.search));
    window.addEventListener("popstate", on);
    window.addEventListener("marquee:navigate", on);
    return () => {
      window.removeEventListener("popstate", on);
      window.removeEventListener("marquee:navigate", on);
    };
  }, []);
  return route;
}

/** onLinkClick turns a plain <a href> click into client-side navigation. */
export function onLinkClick(e: MouseEvent): void {
  const a = (e.target as HTMLElement).closest("a");
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.target) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith("/api/")) return;
  e.preventDefault();
  navigate(url.pathname + url.search);
}
