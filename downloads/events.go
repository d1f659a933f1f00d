package downloads

// sub is one event stream's queue of job snapshots.
type sub struct{ c chan Job }

// SubscribeBuffer is how many job events a slow stream may lag behind;
// past that it is closed and the client reconnects (and refetches).
const SubscribeBuffer = 64

// Subscribe returns the changes of u's jobs (created, progress, state,
// removed jobs as state "cancelled") until stop is called. The channel is
// closed when the stream falls too far behind or the service stops.
func (s *Service) Subscribe(u User) (<-chan Job, func()) {
	sb := &sub{c: make(chan Job, SubscribeBuffer)}
	s.mu.Lock()
	if s.subs[u.ID] == nil {
		s.subs[u.ID] = map[*sub]struct{}{}
	}
	s.subs[u.ID][sb] = struct{}{}
	s.mu.Unlock()
	return sb.c, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if _, ok := s.subs[u.ID][sb]; ok {
			delete(s.subs[u.ID], sb)
			close(sb.c)
		}
	}
}

// changed publishes j's state to its owner's streams and returns it.
func (s *Service) changed(j *job) Job {
	w := s.wire(j)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updateGauges()
	for sb := range s.subs[j.userID] {
		select {
		case sb.c <- w:
		default: // too far behind: the client reconnects and refetches
			delete(s.subs[j.userID], sb)
			close(sb.c)
		}
	}
	return w
}
