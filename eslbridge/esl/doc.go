// Package esl is a client for FreeSWITCH's event socket (mod_event_socket),
// written from the wire format captured from FreeSWITCH 1.11.1.
//
// Frames are header lines ("Name: value") up to a blank line, then a body
// of Content-Length bytes. Replies to commands come back in command order:
// command/reply (result in Reply-Text) or api/response (result in the
// body). Events arrive as text/event-plain (a body of URL-encoded header
// lines, and for BACKGROUND_JOB an inner Content-Length and the job's
// result) or text/event-json. The switch may also send
// text/disconnect-notice (it is about to close) and text/rude-rejection
// (an ACL refused the connection).
//
// A Conn is one authenticated connection. One goroutine reads the socket:
// it hands each reply to the command waiting for it and queues events for
// a second goroutine that calls Options.OnEvent, so a slow event handler
// never delays replies and may itself send commands. Commands time out
// (ErrTimeout) without losing their place in the reply order. bgapi jobs
// carry a Job-UUID chosen here and are matched to their BACKGROUND_JOB
// event. Malformed input is a *ProtocolError: the connection is closed
// and the reason logged; nothing panics (FuzzReadMessage).
//
// A Client keeps a Conn alive: it reconnects with capped exponential
// backoff and calls OnConnect after each connect, where the caller can
// resynchronise its state.
package esl
