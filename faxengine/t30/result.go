package t30

// Result is the outcome of a fax call. Every call ends with exactly one.
// Result implements error; OK is the only success.
type Result int

const (
	OK Result = iota // the fax was sent or received completely

	// Phase A/B: call establishment and negotiation.
	ErrT1Timeout        // T1 expired: no fax terminal answered
	ErrNoDIS            // the remote never sent a usable DIS
	ErrIncompatible     // the remote's capabilities do not allow the transfer
	ErrRemoteCannotRx   // the remote cannot receive
	ErrRemoteNothingTx  // we wanted to receive, the remote has nothing to send
	ErrBothSending      // both ends want to send
	ErrTrainingFailed   // training failed at every rate
	ErrNoTCF            // no training check (TCF) arrived after DCS
	ErrBadDCS           // the remote's DCS is invalid or asks for what we offered not
	ErrNoResponse       // a command got no response after three tries
	ErrUnexpected       // the remote sent a frame that makes no sense here
	ErrRemoteDCNPhaseB  // the remote disconnected in phase B
	ErrNoPage           // after CFR, no page image arrived
	ErrPageNotConfirmed // the remote rejected a page (RTN) after retries
	ErrPostPageTimeout  // no post-page command after a page
	ErrRemoteDCNPhaseD  // the remote disconnected in phase D
	ErrECMRetriesOut    // ECM retransmissions exhausted (EOR/ERR)
	ErrECMRNRTimeout    // the ECM receiver stayed not ready past T5
	ErrProcedureInterrupt
	ErrT2Timeout      // T2 expired waiting for a command
	ErrHangup         // the line went away mid-call (far end hung up)
	ErrHangupPhaseC   // the line went away during page transfer
	ErrStopped        // the local user stopped the call
	ErrDocument       // the document to send could not be read or encoded
	ErrPageStore      // a received page could not be stored
	ErrRemoteDCNEarly // the remote disconnected before the transfer ended
	ErrInternal       // a bug: an impossible state
	resultCount
)

var resultTexts = [...]string{
	OK:                    "OK",
	ErrT1Timeout:          "T1 timeout: no fax terminal answered",
	ErrNoDIS:              "no valid DIS received",
	ErrIncompatible:       "remote capabilities incompatible with the document",
	ErrRemoteCannotRx:     "remote cannot receive",
	ErrRemoteNothingTx:    "remote has no document to send",
	ErrBothSending:        "both terminals want to send",
	ErrTrainingFailed:     "training failed at all rates",
	ErrNoTCF:              "no training check (TCF) received",
	ErrBadDCS:             "invalid DCS from remote",
	ErrNoResponse:         "no response after three tries",
	ErrUnexpected:         "unexpected frame from remote",
	ErrRemoteDCNPhaseB:    "remote disconnected in phase B",
	ErrNoPage:             "no page image received after CFR",
	ErrPageNotConfirmed:   "page rejected by remote (RTN) after retries",
	ErrPostPageTimeout:    "no post-page command received",
	ErrRemoteDCNPhaseD:    "remote disconnected in phase D",
	ErrECMRetriesOut:      "ECM retransmissions exhausted",
	ErrECMRNRTimeout:      "ECM receiver not ready past T5",
	ErrProcedureInterrupt: "procedure interrupt requested by remote",
	ErrT2Timeout:          "T2 timeout waiting for a command",
	ErrHangup:             "line hung up",
	ErrHangupPhaseC:       "line hung up during page transfer",
	ErrStopped:            "stopped by user",
	ErrDocument:           "document could not be read or encoded",
	ErrPageStore:          "received page could not be stored",
	ErrRemoteDCNEarly:     "remote disconnected before the transfer ended",
	ErrInternal:           "internal error",
}

var resultNames = [...]string{
	OK: "ok", ErrT1Timeout: "t1-timeout", ErrNoDIS: "no-dis", ErrIncompatible: "incompatible",
	ErrRemoteCannotRx: "remote-cannot-receive", ErrRemoteNothingTx: "remote-nothing-to-send",
	ErrBothSending: "both-sending", ErrTrainingFailed: "training-failed", ErrNoTCF: "no-tcf",
	ErrBadDCS: "bad-dcs", ErrNoResponse: "no-response", ErrUnexpected: "unexpected-frame",
	ErrRemoteDCNPhaseB: "dcn-phase-b", ErrNoPage: "no-page", ErrPageNotConfirmed: "page-rejected",
	ErrPostPageTimeout: "no-post-page", ErrRemoteDCNPhaseD: "dcn-phase-d", ErrECMRetriesOut: "ecm-retries-exhausted",
	ErrECMRNRTimeout: "ecm-rnr-timeout", ErrProcedureInterrupt: "procedure-interrupt", ErrT2Timeout: "t2-timeout",
	ErrHangup: "hangup", ErrHangupPhaseC: "hangup-phase-c", ErrStopped: "stopped", ErrDocument: "document",
	ErrPageStore: "page-store", ErrRemoteDCNEarly: "dcn-early", ErrInternal: "internal",
}

// String returns the result's text.
func (r Result) String() string {
	if r >= 0 && r < resultCount {
		return resultTexts[r]
	}
	return "unknown result"
}

// Name returns a short stable identifier (for JSON, metrics and logs).
func (r Result) Name() string {
	if r >= 0 && r < resultCount {
		return resultNames[r]
	}
	return "unknown"
}

// Error implements error.
func (r Result) Error() string { return "t30: " + r.String() }

// Success reports whether the call transferred everything.
func (r Result) Success() bool { return r == OK }
