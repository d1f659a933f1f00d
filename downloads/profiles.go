package downloads

import "fmt"

// Profile is what a downloaded file is made of.
type Profile struct {
	Name      string
	Label     string
	MaxHeight int // 0: audio only
	VideoKbps int
	AudioKbps int
	Original  bool // the library file as it is
	AudioOnly bool
}

// Profile names, largest first.
const (
	ProfileOriginal = "original"
	Profile1080p    = "1080p"
	Profile720p     = "720p"
	Profile480p     = "480p"
	ProfileAudio    = "audio"
)

// profiles is every profile, largest first: the order max_profile and
// the fallback from a refused original use.
var profiles = []Profile{
	{Name: ProfileOriginal, Label: "Original file", Original: true},
	{Name: Profile1080p, Label: "1080p 6 Mbit/s", MaxHeight: 1080, VideoKbps: 6000, AudioKbps: 160},
	{Name: Profile720p, Label: "720p 2.5 Mbit/s", MaxHeight: 720, VideoKbps: 2500, AudioKbps: 160},
	{Name: Profile480p, Label: "480p 1 Mbit/s", MaxHeight: 480, VideoKbps: 1000, AudioKbps: 160},
	{Name: ProfileAudio, Label: "audio 160 kbit/s AAC", AudioKbps: 160, AudioOnly: true},
}

// rank is a profile's place, 0 the largest; -1 when unknown.
func rank(name string) int {
	for i, p := range profiles {
		if p.Name == name {
			return i
		}
	}
	return -1
}

// findProfile returns a profile by name, or a 400 unknown_profile.
func findProfile(name string) (Profile, error) {
	if i := rank(name); i >= 0 {
		return profiles[i], nil
	}
	return Profile{}, refuse(400, CodeUnknownProfile, "", "unknown profile %q: use one of original, 1080p, 720p, 480p, audio", name)
}

// allowed says whether rules let a user download profile p, and if not,
// the refusal naming the rule.
func (r Rules) allowed(p Profile) *Error {
	if !r.MayDownload {
		return refuse(403, CodeForbidden, "may_download", "downloads are turned off for your account; ask the server's owner")
	}
	if p.Original {
		// Originals answer to original_allowed alone; max_profile caps
		// the transcoded profiles.
		if !r.OriginalAllowed {
			return refuse(403, CodeProfileNotAllow, "original_allowed", "your account may download transcoded copies only; pick 1080p, 720p, 480p or audio")
		}
		return nil
	}
	if rank(p.Name) < rank(r.MaxProfile) {
		return refuse(403, CodeProfileNotAllow, "max_profile", "the largest profile your account may download is %s; pick it or a smaller one", r.MaxProfile)
	}
	return nil
}

// largestAllowed is the largest transcoded profile rules allow.
func (r Rules) largestAllowed() (Profile, bool) {
	for _, p := range profiles {
		if !p.Original && r.allowed(p) == nil {
			return p, true
		}
	}
	return Profile{}, false
}

// DefaultRules are a new user's rules: downloads allowed, originals for
// admins only, at most 1080p, 5 devices and 2 jobs preparing at once.
func DefaultRules(admin bool) Rules {
	return Rules{MayDownload: true, OriginalAllowed: admin, MaxProfile: Profile1080p, MaxDevices: 5, MaxConcurrentJobs: 2}
}

// Validate reports the first bad field of rules an admin sets.
func (r Rules) Validate() error {
	switch {
	case rank(r.MaxProfile) < 0:
		return invalid("max_profile %q is not a profile: use original, 1080p, 720p, 480p or audio", r.MaxProfile)
	case r.MaxDevices < 0 || r.MaxDevices > 1000:
		return invalid("max_devices is %d: use 0 to 1000", r.MaxDevices)
	case r.MaxConcurrentJobs < 0 || r.MaxConcurrentJobs > 100:
		return invalid("max_concurrent_jobs is %d: use 0 to 100", r.MaxConcurrentJobs)
	}
	return nil
}

// Profiles lists every profile with whether rules allow it.
func (r Rules) Profiles() []ProfileInfo {
	out := make([]ProfileInfo, 0, len(profiles))
	for _, p := range profiles {
		pi := ProfileInfo{Name: p.Name, Label: p.Label, MaxHeight: p.MaxHeight, VideoKbps: p.VideoKbps, AudioKbps: p.AudioKbps, Allowed: true}
		if e := r.allowed(p); e != nil {
			pi.Allowed, pi.Reason = false, fmt.Sprintf("%s (rule %s)", e.Message, e.Rule)
		}
		out = append(out, pi)
	}
	return out
}
