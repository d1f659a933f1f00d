// Password.tsx lets a signed-in person set or change their password, so
// the one-time login link is not their only way back in.
import { useState } from "preact/hooks";
import { ApiError, api, type User } from "../api";
import { ErrorNote } from "../ui";

const LATER_KEY = "marquee.passwordLater";

/** needsPassword is true for an account that can only come back in by a one-time link. */
export function needsPassword(user: User | null): boolean {
  return !!user && user.role !== "guest" && user.hasPassword === false;
}

/** PasswordForm sets a new password; with one already set it asks for it first. */
export function PasswordForm({ user, onDone }: { user: User; onDone: (u: User) => void }) {
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [again, setAgain] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (next !== again) {
      setError("The two passwords differ. Type the same one twice.");
      return;
    }
    setBusy(true);
    setError("");
    try {
      onDone(await api.setPassword(next, user.hasPassword ? current : undefined));
    } catch (err) {
      const code = err instanceof ApiError ? err.code : "";
      setError(
        code === "wrong_password"
          ? "Your current password is wrong."
          : code === "too_many_attempts"
            ? "Too many wrong passwords. Wait a few minutes and try again."
            : `Could not save the password: ${(err as Error).message}`,
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="stack password-form" onSubmit={submit}>
      {/* The username field lets password managers file the new password under the right account. */}
      <input type="text" name="username" autocomplete="username" value={user.username} readOnly hidden />
      {user.hasPassword && (
        <label>
          Current password
          <input name="currentPassword" type="password" autocomplete="current-password" value={current} onInput={(e) => setCurrent(e.currentTarget.value)} required />
        </label>
      )}
      <label>
        New password <span class="muted small">(at least 8 characters)</span>
        <input name="newPassword" type="password" autocomplete="new-password" minLength={8} value={next} onInput={(e) => setNext(e.currentTarget.value)} required />
      </label>
      <label>
        New password again
        <input name="newPasswordAgain" type="password" autocomplete="new-password" minLength={8} value={again} onInput={(e) => setAgain(e.currentTarget.value)} required />
      </label>
      {error && <ErrorNote>{error}</ErrorNote>}
      <button type="submit" class="btn primary" disabled={busy}>
        {busy ? "Saving…" : "Save password"}
      </button>
    </form>
  );
}

/**
 * PasswordPrompt asks an account without a password to set one: right
 * after the first sign-in by link, and on later visits until it is set
 * (or put off for this browser session). open forces the dialog, from the
 * account menu.
 */
export function PasswordPrompt({ user, open, onClose, onUser }: { user: User; open: boolean; onClose: () => void; onUser: (u: User) => void }) {
  const [later, setLater] = useState(() => sessionStorage.getItem(LATER_KEY) === "1");
  const [saved, setSaved] = useState(false);
  const nudge = needsPassword(user) && !later;
  if (saved) {
    return (
      <div class="password-prompt done" role="status" data-testid="password-saved">
        Password saved. Next time, sign in with <strong>{user.username}</strong> and your password.
        <button type="button" class="btn" onClick={() => setSaved(false)}>
          OK
        </button>
      </div>
    );
  }
  if (!nudge && !open) return null;
  return (
    <section class="password-prompt" role="dialog" aria-labelledby="pw-h" data-testid="password-prompt">
      <h2 id="pw-h">{user.hasPassword ? "Change your password" : "Set a password to get back in"}</h2>
      {!user.hasPassword && (
        <p class="muted">
          You signed in with a one-time link, which now is spent. Without a password you cannot sign in again once this browser
          forgets you.
        </p>
      )}
      <PasswordForm
        user={user}
        onDone={(u) => {
          onUser(u);
          setSaved(true);
          onClose();
        }}
      />
      <button
        type="button"
        class="btn link"
        onClick={() => {
          if (nudge) {
            sessionStorage.setItem(LATER_KEY, "1");
            setLater(true);
          }
          onClose();
        }}
      >
        {nudge ? "Later" : "Cancel"}
      </button>
    </section>
  );
}
