import { useState } from "preact/hooks";
import { api, type User } from "../api";
import { navigate } from "../router";
import { Icon } from "../ui";

/** Header is the top bar: brand, library link and the account menu. */
export function Header({ user, onSignedOut }: { user: User | null; onSignedOut: () => void }) {
  const [open, setOpen] = useState(false);
  const signOut = async (switching: boolean) => {
    await api.logout().catch(() => undefined);
    onSignedOut();
    navigate(switching ? "/signin?switch=1" : "/signin");
  };
  return (
    <header class="topbar">
      <a class="brand" href={user ? "/" : "#"} aria-label="Marquee home">
        <span class="brand-mark" aria-hidden="true">▶</span>
        <span>Marquee</span>
      </a>
      {user && (
        <nav class="topnav" aria-label="Main">
          <a href="/">Library</a>
        </nav>
      )}
      {user && (
        <div class="account">
          <button
            type="button"
            class="account-btn"
            aria-haspopup="menu"
            aria-expanded={open}
            aria-label={`Account: ${user.displayName || user.username}`}
            onClick={() => setOpen(!open)}
          >
            <span class="avatar" aria-hidden="true">
              {(user.displayName || user.username).slice(0, 1).toUpperCase()}
            </span>
            <span class="account-name">{user.displayName || user.username}</span>
          </button>
          {open && (
            <div class="menu" role="menu" onMouseLeave={() => setOpen(false)}>
              <div class="menu-head">
                Signed in as <strong>{user.username}</strong>
              </div>
              <button type="button" role="menuitem" onClick={() => signOut(true)}>
                <Icon name="user" size={16} /> Switch account
              </button>
              <button type="button" role="menuitem" onClick={() => signOut(false)}>
                Sign out
              </button>
            </div>
          )}
        </div>
      )}
    </header>
  );
}
