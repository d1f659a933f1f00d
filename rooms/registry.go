package rooms

import (
	"fmt"
	"sort"
	"sync"
)

// Registry finds the open rooms by name. The in-memory one serves a single
// node; a Redis-backed one can place rooms across nodes later.
type Registry interface {
	// Room returns the open room called name, or ErrRoomNotFound.
	Room(name string) (*Room, error)
	// LoadOrCreate returns the open room called name, opening it with open
	// when there is none; created reports whether open was called.
	LoadOrCreate(name string, open func() *Room) (r *Room, created bool)
	// Remove forgets r, if it is still the room registered under its name.
	Remove(r *Room)
	// List returns the open rooms sorted by name.
	List() []*Room
}

// memRegistry is the single-node Registry.
type memRegistry struct {
	mu    sync.Mutex
	rooms map[string]*Room
}

// NewMemoryRegistry returns an empty in-memory Registry.
func NewMemoryRegistry() Registry { return &memRegistry{rooms: map[string]*Room{}} }

func (m *memRegistry) Room(name string) (*Room, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.rooms[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrRoomNotFound, name)
	}
	return r, nil
}

func (m *memRegistry) LoadOrCreate(name string, open func() *Room) (*Room, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.rooms[name]; ok {
		return r, false
	}
	r := open()
	m.rooms[name] = r
	return r, true
}

func (m *memRegistry) Remove(r *Room) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.rooms[r.name] == r {
		delete(m.rooms, r.name)
	}
}

func (m *memRegistry) List() []*Room {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Room, 0, len(m.rooms))
	for _, r := range m.rooms {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}
