package downloads

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"unicode/utf8"
)

// MaxDeviceName bounds a device's name in bytes.
const MaxDeviceName = 100

// RegisterDevice adds a device for u, refused with device_limit (409,
// rule max_devices) when u already has as many live devices as allowed.
func (s *Service) RegisterDevice(ctx context.Context, u User, name string) (Device, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > MaxDeviceName || !utf8.ValidString(name) {
		return Device{}, invalid("name the device (1 to %d bytes of text), e.g. \"Laptop\"", MaxDeviceName)
	}
	r, err := s.Rules(ctx, u.ID, u.Admin)
	if err != nil {
		return Device{}, err
	}
	if !r.MayDownload {
		return Device{}, s.refused(refuse(http.StatusForbidden, CodeForbidden, "may_download", "downloads are turned off for your account; ask the server's owner"))
	}
	now := s.p.Now().UTC().Truncate(1e6)
	d := device{Device: Device{ID: newID(), Name: name, CreatedAt: now, LastSeen: now, ExpiresAt: now.Add(s.p.TTL)}, userID: u.ID}
	s.mu.Lock()
	live := 0
	for _, o := range s.devices {
		if o.userID == u.ID && !o.Revoked && o.ExpiresAt.After(now) {
			live++
		}
	}
	if live >= r.MaxDevices {
		s.mu.Unlock()
		return Device{}, s.refused(refuse(http.StatusConflict, CodeDeviceLimit, "max_devices",
			"your account may register %d devices and has %d; revoke one under Downloads first", r.MaxDevices, live))
	}
	s.devices[d.ID] = &d
	s.mu.Unlock()
	if err := s.st.saveDevice(ctx, d); err != nil {
		s.mu.Lock()
		delete(s.devices, d.ID)
		s.mu.Unlock()
		return Device{}, err
	}
	return d.Device, nil
}

// Devices lists u's devices, newest first.
func (s *Service) Devices(u User) []Device { return s.DevicesOf(u.ID) }

// DevicesOf lists a user's devices, newest first (for admins).
func (s *Service) DevicesOf(userID int64) []Device {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Device{}
	for _, d := range s.devices {
		if d.userID == userID {
			out = append(out, d.Device)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	return out
}

// update applies f to device id (u's own, or any for an admin) and saves it.
func (s *Service) update(ctx context.Context, u User, id string, f func(*device) error) (Device, error) {
	s.mu.Lock()
	d, ok := s.devices[id]
	if !ok || (d.userID != u.ID && !u.Admin) {
		s.mu.Unlock()
		return Device{}, ErrNotFound
	}
	if err := f(d); err != nil {
		s.mu.Unlock()
		return Device{}, err
	}
	snap := *d
	s.mu.Unlock()
	return snap.Device, s.st.saveDevice(ctx, snap)
}

// RevokeDevice revokes a device: its links stop working at once
// (device_revoked) and its unfinished jobs are cancelled.
func (s *Service) RevokeDevice(ctx context.Context, u User, id string) error {
	_, err := s.update(ctx, u, id, func(d *device) error {
		d.Revoked = true
		for _, j := range s.jobs {
			if j.deviceID == id {
				j.cancel()
			}
		}
		return nil
	})
	return err
}

// CheckIn records that a device is alive and moves its expiry (and its
// links') to now + downloads.ttl.
func (s *Service) CheckIn(ctx context.Context, u User, id string) (Device, error) {
	now := s.p.Now().UTC().Truncate(1e6)
	return s.update(ctx, u, id, func(d *device) error {
		if d.Revoked {
			return s.refused(refuse(http.StatusUnauthorized, CodeDeviceRevoked, "", "this device was revoked; register it again"))
		}
		d.LastSeen, d.ExpiresAt = now, now.Add(s.p.TTL)
		return nil
	})
}

// liveDevice returns u's device id for a new job, or why it cannot be used.
func (s *Service) liveDevice(u User, id string) (device, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d, ok := s.devices[id]
	switch {
	case !ok || d.userID != u.ID:
		return device{}, invalid("device_id %q is not one of your devices: register this device first (POST /api/downloads/devices)", id)
	case d.Revoked:
		return device{}, s.refused(refuse(http.StatusUnauthorized, CodeDeviceRevoked, "", "this device was revoked; register it again"))
	case !d.ExpiresAt.After(s.p.Now()):
		return device{}, s.refused(refuse(http.StatusUnauthorized, CodeLinkExpired, "", "this device has not checked in for %s; check in or register again", s.p.TTL))
	}
	return *d, nil
}
