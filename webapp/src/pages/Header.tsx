import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { api, type Account, type User } from "../api";
import { navigate } from "../router";
import { Icon } from "../ui";

/** Header is the top bar: brand, library link and the account menu with the switcher. */
export function Header({ user, onUser, onPassword }: { user: User | null; onUser: (u: User | null) => void; onPassword?: () => void }) {
  const [open, setOpen] = useState(false);
  const [accounts, setAccounts] = useState<Account[]>([]);
  const menuRoot = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (open) api.accounts().then(setAccounts, () => setAccounts([]));
  }, [open]);
  useDismiss(open, menuRoot, () => setOpen(false));

  const switchTo = async (a: Account) => {
    setOpen(false);
    try {
      onUser(await api.switchAccount(a.id));
      navigate("/");
    } catch {
      navigate(`/signin`);
    }
  };
  const signOut = async () => {
    setOpen(false);
    await api.logout().catch(() => undefined);
    const next = await api.me().catch(() => null); // another account of this browser may take over
    onUser(next);
    navigate(next ? "/" : "/signin");
  };
  const name = user ? user.displayName || user.username : "";
  const others = accounts.filter((a) => !a.active && a.role !== "guest");
  return (
    <header class="topbar">
      <a class="brand" href="/" aria-label="Marquee home">
        <span class="brand-mark" aria-hidden="true">▶</span>
        <span>Marquee</span>
      </a>
      {user && user.role !== "guest" && (
        <nav class="topnav" aria-label="Main">
          <a href="/">Library</a>
          <a href="/downloads">Downloads</a>
          {user.role === "admin" && <a href="/admin/optimize">Optimize</a>}
          {user.role === "admin" && <a href="/admin/cdn">CDN nodes</a>}
        </nav>
      )}
      {user && (
        <div class="account" ref={menuRoot}>
          <button type="button" class="account-btn" aria-haspopup="menu" aria-expanded={open} aria-label={`Account: ${name}`} onClick={() => setOpen(!open)}>
            <span class="avatar" aria-hidden="true">
              {name.slice(0, 1).toUpperCase()}
            </span>
            <span class="account-name">{name}</span>
          </button>
          {open && (
            <div class="menu" role="menu">
              <div class="menu-head">
                Signed in as <strong>{user.username}</strong>
              </div>
              {others.map((a) => (
                <button type="button" role="menuitem" key={a.id} onClick={() => void switchTo(a)}>
                  <span class="avatar small" aria-hidden="true">
                    {(a.displayName || a.username).slice(0, 1).toUpperCase()}
                  </span>
                  Switch to {a.displayName || a.username}
                </button>
              ))}
              <button
                type="button"
                role="menuitem"
                onClick={() => {
                  setOpen(false);
                  navigate(`/signin?next=${encodeURIComponent(location.pathname)}`);
                }}
              >
                <Icon name="user" size={16} /> Add another account
              </button>
              {user.role !== "guest" && onPassword && (
                <button
                  type="button"
                  role="menuitem"
                  onClick={() => {
                    setOpen(false);
                    onPassword();
                  }}
                >
                  {user.hasPassword ? "Change password" : "Set a password"}
                </button>
              )}
              <button type="button" role="menuitem" onClick={() => void signOut()}>
                Sign out
              </button>
            </div>
          )}
        </div>
      )}
    </header>
  );
}

/**
 * useDismiss closes an open menu on Escape (focus goes back to its button)
 * or on a pointer press outside root. The listeners are attached before the
 * menu is painted (a layout effect): an Escape pressed as soon as the menu
 * shows must close it, whatever the machine's load.
 */
function useDismiss(open: boolean, root: { current: HTMLElement | null }, close: () => void) {
  const closeRef = useRef(close);
  closeRef.current = close;
  useLayoutEffect(() => {
    if (!open) return;
    const close = () => closeRef.current();
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "Escape") return;
      close();
      root.current?.querySelector<HTMLElement>("[aria-haspopup]")?.focus();
    };
    const onDown = (e: PointerEvent) => {
      if (root.current && !root.current.contains(e.target as Node)) close();
    };
    document.addEventListener("keydown", onKey);
    document.addEventListener("pointerdown", onDown);
    return () => {
      document.removeEventListener("keydown", onKey);
      document.removeEventListener("pointerdown", onDown);
    };
  }, [open, root]);
}
