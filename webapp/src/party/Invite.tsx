import { useState } from "preact/hooks";
import { api } from "../api";
import { Icon } from "../ui";

const EXPIRY = [
  { label: "1 hour", seconds: 3600 },
  { label: "1 day", seconds: 86400 },
  { label: "7 days", seconds: 7 * 86400 },
];

/** copyText copies to the clipboard, falling back to a selected textarea. */
async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = document.createElement("textarea");
    ta.value = text;
    document.body.appendChild(ta);
    ta.select();
    const ok = document.execCommand("copy");
    ta.remove();
    return ok;
  }
}

/**
 * Invite mints an invite link with a role and expiry, and copies it. Only
 * the host may invite co-hosts (the API enforces it; the choice is hidden).
 */
export function Invite({ partyId, canInviteCohost }: { partyId: number; canInviteCohost: boolean }) {
  const [open, setOpen] = useState(false);
  const [role, setRole] = useState("listener");
  const [expiry, setExpiry] = useState(86400);
  const [link, setLink] = useState("");
  const [note, setNote] = useState("");
  const create = async () => {
    setNote("");
    try {
      const inv = await api.invite(partyId, role, expiry);
      const url = new URL(inv.url || `/join/${inv.token}`, location.origin).toString();
      setLink(url);
      setNote((await copyText(url)) ? "Link copied" : "Copy the link below");
    } catch (e) {
      setNote(`Could not create an invite: ${(e as Error).message}`);
    }
  };
  return (
    <div class="invite">
      <button type="button" class="btn primary" aria-expanded={open} onClick={() => setOpen(!open)}>
        <Icon name="link" size={18} /> Invite
      </button>
      {open && (
        <div class="popover" role="dialog" aria-label="Invite people">
          <label>
            Role
            <select value={role} onChange={(e) => setRole(e.currentTarget.value)} aria-label="Invite role">
              <option value="listener">Listener: watch and chat</option>
              {canInviteCohost && <option value="cohost">Co-host: also control playback</option>}
            </select>
          </label>
          <label>
            Expires after
            <select value={expiry} onChange={(e) => setExpiry(Number(e.currentTarget.value))} aria-label="Invite expiry">
              {EXPIRY.map((x) => (
                <option key={x.seconds} value={x.seconds}>
                  {x.label}
                </option>
              ))}
            </select>
          </label>
          <button type="button" class="btn primary wide" onClick={() => void create()}>
            Create and copy link
          </button>
          {link && <input class="invite-link" readOnly value={link} aria-label="Invite link" data-testid="invite-link" onFocus={(e) => e.currentTarget.select()} />}
          {note && (
            <p class="small" role="status">
              {note}
            </p>
          )}
        </div>
      )}
    </div>
  );
}
