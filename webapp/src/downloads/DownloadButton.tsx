// downloads/DownloadButton.tsx is "Download" on an item's page and
// "Download season" on a show's or season's: a profile chooser (profiles a
// rule refuses are disabled and say why), the device's name on first use,
// and the button that starts the job.
import { useEffect, useState } from "preact/hooks";
import { useObservable } from "../store";
import { dl, type Profile, type ProfileName, type Target } from "./api";
import { defaultDeviceName, downloads } from "./manager";

let profilesCache: Promise<Profile[]> | null = null;

function useProfiles(): { profiles: Profile[]; error: string } {
  const [profiles, setProfiles] = useState<Profile[]>([]);
  const [error, setError] = useState("");
  useEffect(() => {
    profilesCache ??= dl.profiles();
    profilesCache.then(setProfiles, (e) => {
      profilesCache = null;
      setError(`Downloads are not available: ${(e as Error).message}`);
    });
  }, []);
  return { profiles, error };
}

/** defaultProfile picks the largest allowed transcoded profile at or under 720p, else the first allowed. */
function defaultProfile(ps: Profile[], audioOnly: boolean): ProfileName | "" {
  const allowed = ps.filter((p) => p.allowed && (audioOnly ? p.name === "audio" || p.name === "original" : true));
  return (allowed.find((p) => (audioOnly ? p.name === "audio" : p.name === "720p")) ?? allowed[0])?.name ?? "";
}

/** DownloadButton starts a download job for target. */
export function DownloadButton({ target, label, audioOnly = false }: { target: Target; label: string; audioOnly?: boolean }) {
  const mgr = downloads();
  const status = useObservable(mgr.status);
  const { profiles, error: loadError } = useProfiles();
  const [picked, setProfile] = useState<ProfileName | "">("");
  // the default is derived, not set by an effect that could overwrite a choice made first
  const profile = picked || defaultProfile(profiles, audioOnly);
  const [name, setName] = useState(() => defaultDeviceName(navigator.userAgent));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const [done, setDone] = useState("");
  const id = `dl-${target.kind}-${target.id}`;

  if (loadError) return <p class="muted dl-note">{loadError}</p>;
  if (!profiles.length) return null;
  if (!profiles.some((p) => p.allowed)) {
    const why = profiles.find((p) => p.reason)?.reason;
    return <p class="muted dl-note">You may not download from this server{why ? `: ${why}` : ""}. Ask its admin.</p>;
  }

  const start = async () => {
    if (!profile) return;
    setBusy(true);
    setError("");
    setDone("");
    try {
      const job = await mgr.download(target, profile, name);
      const used = job.profile !== profile ? ` in ${job.profile} (${job.fallback_reason ?? "the profile you chose is not allowed"})` : "";
      setDone(`Downloading ${job.items.length} ${job.items.length === 1 ? "file" : "files"}${used}. Follow it on the Downloads page.`);
    } catch (e) {
      setError(`Could not start the download: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="dl-form" role="group" aria-label={label}>
      <label for={`${id}-profile`}>
        Quality
        <select id={`${id}-profile`} class="dl-profile" value={profile} onChange={(e) => setProfile((e.target as HTMLSelectElement).value as ProfileName)}>
          {profiles.map((p) => (
            <option key={p.name} value={p.name} disabled={!p.allowed}>
              {p.label}
              {!p.allowed && p.reason ? ` (not allowed: ${p.reason})` : ""}
            </option>
          ))}
        </select>
      </label>
      {!status.deviceId && (
        <label for={`${id}-device`}>
          Name this device
          <input id={`${id}-device`} class="dl-device" value={name} maxLength={60} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </label>
      )}
      <button type="button" class="btn dl-start" onClick={() => void start()} disabled={busy || !profile}>
        {busy ? "Starting…" : label}
      </button>
      {done && (
        <p class="muted dl-note" role="status">
          {done.replace(" Follow it on the Downloads page.", " ")}
          <a href="/downloads">Follow it on the Downloads page</a>.
        </p>
      )}
      {error && (
        <p class="error-note" role="alert">
          {error}
        </p>
      )}
    </div>
  );
}
