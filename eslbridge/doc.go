// Package eslbridge is rayofax's switch-facing call model: it drives
// FreeSWITCH calls through the event socket (package esl) and carries their
// audio over `unicast` UDP (package audio) to an in-process media handler.
//
// A Bridge keeps one ESL connection (reconnecting with backoff). Inbound
// calls that the dialplan parks (all of them, or only those whose channel
// variable Config.MarkVariable is true) become offers: *Call values handed
// to Config.OnOffer, carrying To, From and the SIP headers. The Rayo layer
// then answers, rejects, redirects or hangs them up, starts media with a
// MediaHandler, and learns how each call ended from Done and End. Outbound
// calls come from Dial. Everything is keyed by the FreeSWITCH channel UUID
// (Call.ID), from which Rayo call IDs derive.
//
// Media. StartMedia picks two adjacent ports from the configured range (the
// even one ours, the odd one the switch's), sends the unicast command after
// the channel is parked and fails the start if no datagram arrives within
// Config.MediaStartTimeout (FreeSWITCH replies +OK even when it cannot
// start the stream). If an application executed on the channel ends the
// stream, the bridge re-parks the channel (uuid_transfer park) and starts
// unicast again. Stopping media re-parks the channel, which tears the
// stream down, and releases the ports.
//
// After every connect the bridge lists the switch's channels (show
// channels as json, then uuid_exists for any missing): every call it owns
// that vanished meanwhile ends with EndError and ErrVanished, and inbound
// calls parked while it was away (or before it started) are offered, read
// with uuid_dump.
package eslbridge
