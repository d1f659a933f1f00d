// accounts.ts remembers the accounts used on this browser, for the sign-in
// page's account switcher. Only names are kept; never passwords or tokens.

/** Remembered is one account shown on the sign-in page. */
export interface Remembered {
  username: string;
  displayName: string;
}

const KEY = "marquee.accounts";

/** remembered lists accounts, most recent first. */
export function remembered(): Remembered[] {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) ?? "[]");
    return Array.isArray(v) ? v.filter((a) => typeof a?.username === "string").slice(0, 6) : [];
  } catch {
    return [];
  }
}

/** remember puts an account first in the list. */
export function remember(a: Remembered): void {
  const list = [a, ...remembered().filter((x) => x.username.toLowerCase() !== a.username.toLowerCase())];
  localStorage.setItem(KEY, JSON.stringify(list.slice(0, 6)));
}

/** forget removes an account from the list. */
export function forget(username: string): void {
  localStorage.setItem(KEY, JSON.stringify(remembered().filter((x) => x.username !== username)));
}
