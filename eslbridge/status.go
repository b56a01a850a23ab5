package eslbridge

// Connected reports whether the event socket is up now (for readiness
// checks; it does not wait).
func (b *Bridge) Connected() bool {
	_, err := b.client.Conn()
	return err == nil
}
