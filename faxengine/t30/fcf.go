package t30

import "fmt"

// FCF values, written as they appear in an octet received least significant
// bit first (the order HDLC puts them on the wire). Frames whose FCF carries
// an X bit are listed with X = 0; see NormalizeFCF.
const (
	// Initial identification, from the called station.
	FCFDIS = 0x80 // digital identification signal
	FCFCSI = 0x40 // called subscriber identification
	FCFNSF = 0x20 // non-standard facilities

	// Commands to send, from a calling station that wants to receive.
	FCFDTC = 0x81 // digital transmit command
	FCFCIG = 0x41 // calling subscriber identification
	FCFNSC = 0x21 // non-standard facilities command
	FCFPWD = 0xC1 // password
	FCFSEP = 0xA1 // selective polling

	// Commands to receive (X bit applies).
	FCFDCS = 0x82 // digital command signal
	FCFTSI = 0x42 // transmitting subscriber identification
	FCFNSS = 0x22 // non-standard facilities set-up
	FCFSUB = 0xC2 // subaddress
	FCFSID = 0xA2 // sender identification
	FCFCTC = 0x12 // continue to correct (ECM)

	// Pre-message responses.
	FCFCFR = 0x84 // confirmation to receive
	FCFFTT = 0x44 // failure to train
	FCFCTR = 0xC4 // response to continue to correct (ECM)

	// Post-message commands.
	FCFEOM    = 0x8E // end of message
	FCFMPS    = 0x4E // multipage signal
	FCFEOP    = 0x2E // end of procedure
	FCFPRIEOM = 0x9E // procedure interrupt, end of message
	FCFPRIMPS = 0x5E // procedure interrupt, multipage signal
	FCFPRIEOP = 0x3E // procedure interrupt, end of procedure
	FCFPPS    = 0xBE // partial page signal (ECM)
	FCFEOR    = 0xCE // end of retransmission (ECM)
	FCFRR     = 0x6E // receiver ready (ECM)

	// Post-message responses.
	FCFMCF = 0x8C // message confirmation
	FCFRTP = 0xCC // retrain positive
	FCFRTN = 0x4C // retrain negative
	FCFPIP = 0xAC // procedure interrupt positive
	FCFPIN = 0x2C // procedure interrupt negative
	FCFPPR = 0xBC // partial page request (ECM)
	FCFRNR = 0xEC // receiver not ready (ECM)
	FCFERR = 0x1C // response to end of retransmission (ECM)

	// Other line control.
	FCFDCN = 0xFA // disconnect
	FCFCRP = 0x1A // command repeat
	FCFFNV = 0xCA // field not valid

	// FCFNull is the "nothing more" post-message code carried inside PPS
	// and EOR when a partial page is not the end of a page.
	FCFNull = 0x00

	// Information frames of the ECM image stream (T.4 Annex A), sent with
	// the image modem.
	FCFFCD = 0x06 // facsimile coded data
	FCFRCP = 0x86 // return to control for partial page
)

// xBit is the first transmitted bit of an FCF: set in frames sent by the
// station that received a DIS (T.30 5.3.6.1).
const xBit = 0x01

// fixedFCF lists the FCFs whose low bit is part of the code rather than the X
// bit: the initial identification frames and the polling commands.
func fixedFCF(f byte) bool {
	switch f {
	case FCFDIS, FCFCSI, FCFNSF, FCFDTC, FCFCIG, FCFNSC, FCFPWD, FCFSEP:
		return true
	}
	return false
}

// NormalizeFCF strips the X bit from an FCF that carries one.
func NormalizeFCF(f byte) byte {
	if fixedFCF(f) {
		return f
	}
	return f &^ xBit
}

// withX sets the X bit on an FCF that carries one.
func withX(f byte, x bool) byte {
	if fixedFCF(f) || !x {
		return f
	}
	return f | xBit
}

var fcfNames = map[byte]string{
	FCFDIS: "DIS", FCFCSI: "CSI", FCFNSF: "NSF",
	FCFDTC: "DTC", FCFCIG: "CIG", FCFNSC: "NSC", FCFPWD: "PWD", FCFSEP: "SEP",
	FCFDCS: "DCS", FCFTSI: "TSI", FCFNSS: "NSS", FCFSUB: "SUB", FCFSID: "SID", FCFCTC: "CTC",
	FCFCFR: "CFR", FCFFTT: "FTT", FCFCTR: "CTR",
	FCFEOM: "EOM", FCFMPS: "MPS", FCFEOP: "EOP", FCFPRIEOM: "PRI-EOM", FCFPRIMPS: "PRI-MPS",
	FCFPRIEOP: "PRI-EOP", FCFPPS: "PPS", FCFEOR: "EOR", FCFRR: "RR",
	FCFMCF: "MCF", FCFRTP: "RTP", FCFRTN: "RTN", FCFPIP: "PIP", FCFPIN: "PIN", FCFPPR: "PPR",
	FCFRNR: "RNR", FCFERR: "ERR",
	FCFDCN: "DCN", FCFCRP: "CRP", FCFFNV: "FNV",
	FCFNull: "NULL",
}

// FCFName returns the T.30 mnemonic of an FCF (X bit ignored), or its hex
// value when it is unknown.
func FCFName(f byte) string {
	if n, ok := fcfNames[NormalizeFCF(f)]; ok {
		return n
	}
	return fmt.Sprintf("FCF(0x%02X)", f)
}

// postMessage reports whether f is a post-message command (MPS, EOP, EOM or
// their procedure-interrupt forms), the values PPS and EOR carry.
func postMessage(f byte) bool {
	switch f {
	case FCFMPS, FCFEOP, FCFEOM, FCFPRIMPS, FCFPRIEOP, FCFPRIEOM:
		return true
	}
	return false
}

// plainPostMessage maps a PRI-Q command to its Q.
func plainPostMessage(f byte) byte {
	switch f {
	case FCFPRIMPS:
		return FCFMPS
	case FCFPRIEOP:
		return FCFEOP
	case FCFPRIEOM:
		return FCFEOM
	}
	return f
}
