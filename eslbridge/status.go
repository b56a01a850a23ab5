package eslbridge

import "github.com/rayofax/rayofax/eslbridge/audio"

// Connected reports whether the event socket is up now (for readiness
// checks; it does not wait).
func (b *Bridge) Connected() bool {
	_, err := b.client.Conn()
	return err == nil
}

// AudioStats returns the frame counters of every stream the bridge has run,
// ended ones included: running totals for metrics.
func (b *Bridge) AudioStats() audio.Stats {
	b.mu.Lock()
	total := b.ended
	calls := make([]*Call, 0, len(b.calls))
	for _, c := range b.calls {
		calls = append(calls, c)
	}
	b.mu.Unlock()
	for _, c := range calls {
		c.mu.Lock()
		m := c.media
		c.mu.Unlock()
		if m != nil {
			addStats(&total, m.Stats())
		}
	}
	return total
}

func (b *Bridge) addEnded(s audio.Stats) {
	b.mu.Lock()
	addStats(&b.ended, s)
	b.mu.Unlock()
}

func addStats(t *audio.Stats, s audio.Stats) {
	t.Received += s.Received
	t.Sent += s.Sent
	t.Filled += s.Filled
	t.HeardLate += s.HeardLate
	t.Dropped += s.Dropped
	t.Graced += s.Graced
	t.Strays += s.Strays
	t.BadSize += s.BadSize
	t.Late += s.Late
	t.Delayed += s.Delayed
	t.Runs += s.Runs
}
