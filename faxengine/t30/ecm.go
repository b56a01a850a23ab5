package t30

// Error correction mode (T.30 Annex A): the page's coded data travels in
// numbered HDLC frames of 256 (or 64) octets, at most 256 frames to a block
// (a "partial page"). After each block the sender asks with PPS whether
// everything arrived; the receiver answers MCF or PPR with a map of the
// frames to send again.

// maxPPR is how many PPRs a block may take before CTC (and, after CTC, EOR).
const maxPPR = 4

type ecmTx struct {
	frames     [][]byte // the page's data cut into frames
	block      int
	start, end int    // frame range of the current block
	resend     []bool // frames of the block still to send
	ppr        int
	ctcUsed    bool
	waiting    byte // PPS, CTC, EOR or RR
	q          byte // post-message code of the current PPS
	rnrSince   int
	longNext   bool
	lost       bool // a block was given up with EOR
	// burstCount makes PPS count only the frames of the last burst, as
	// spandsp does after a PPR (tests use it to check our receiver).
	burstCount bool
	fcd        []byte   // the FCD frames of the block being sent
	ends       []int    // where each ends in fcd
	out        [][]byte // the frames of the block, for the line
}

func (s *session) startECMPage() {
	data, ok := s.encodePage(s.pageIdx)
	if !ok {
		return
	}
	size := s.settings.FrameSize()
	e := &s.ecm
	e.frames = e.frames[:0]
	for len(data) > 0 {
		n := min(size, len(data))
		e.frames = append(e.frames, data[:n])
		data = data[n:]
	}
	if len(e.frames) == 0 {
		e.frames = append(e.frames, []byte{0})
	}
	s.ppm = s.nextPPM()
	e.block = 0
	s.setupBlock(0)
	s.sendBlock()
}

func (s *session) setupBlock(start int) {
	e := &s.ecm
	e.start = start
	e.end = min(start+256, len(e.frames))
	e.resend = e.resend[:0]
	for i := e.start; i < e.end; i++ {
		e.resend = append(e.resend, true)
	}
	e.ppr, e.ctcUsed, e.rnrSince = 0, false, -1
}

func (s *session) sendBlock() {
	e := &s.ecm
	s.setPhase(PhaseC)
	s.state = stTxImage
	// The FCD frames are built in one buffer reused block after block (the
	// line copies them before the next block).
	e.fcd, e.ends = e.fcd[:0], e.ends[:0]
	for i, r := range e.resend {
		if r {
			e.fcd = appendFCD(e.fcd, i, e.frames[e.start+i])
			e.ends = append(e.ends, len(e.fcd))
		}
	}
	out, from := e.out[:0], 0
	for _, end := range e.ends {
		out = append(out, e.fcd[from:end:end])
		from = end
	}
	out = append(out, rcpFrame, rcpFrame, rcpFrame)
	e.out = out
	r := s.settings.Rate
	short := r.Modulation == V17 && !e.longNext
	e.longNext = false
	s.send(s.sendPPS, silence(turnaround), txItem{kind: txImageFrames, rate: r, short: short, frames: out})
}

func (s *session) ppsFrame() Frame {
	e := &s.ecm
	e.q = FCFNull
	if e.end >= len(e.frames) {
		e.q = s.ppm
	}
	n := e.end - e.start
	if e.burstCount {
		n = 0
		for _, r := range e.resend {
			if r {
				n++
			}
		}
	}
	return Frame{FCF: FCFPPS, FIF: []byte{withX(e.q, s.xbit), byte(s.pageIdx), byte(e.block), byte(n - 1)}}
}

func (s *session) sendPPS() {
	s.setPhase(PhaseD)
	s.ecm.waiting = FCFPPS
	s.command([]Frame{s.ppsFrame()}, stTxWaitResp, true)
}

func (s *session) onECMResponse(f Frame) {
	e := &s.ecm
	switch f.FCF {
	case FCFCRP:
		s.stopTimer()
		s.commandTimeout()
		return
	case FCFPIN:
		s.stopTimer()
		s.fail(ErrProcedureInterrupt, true)
		return
	}
	switch e.waiting {
	case FCFPPS, FCFRR:
		switch f.FCF {
		case FCFMCF, FCFPIP:
			s.stopTimer()
			s.blockDone(f.FCF == FCFPIP)
		case FCFPPR:
			s.stopTimer()
			e.rnrSince = -1
			e.ppr++
			n := 0
			for i := range e.resend {
				e.resend[i] = f.FIF[i/8]&(1<<uint(i%8)) != 0
				if e.resend[i] {
					n++
				}
			}
			s.report.Retransmits += n
			if n == 0 { // nothing asked for: take it as confirmation
				s.blockDone(false)
				return
			}
			switch {
			case e.ppr < maxPPR:
				s.sendBlock()
			case !e.ctcUsed:
				r, ok := nextRate(s.settings.Rate, s.remote.Modems, s.allow)
				if !ok {
					r = s.settings.Rate
				}
				e.waiting = FCFCTC
				s.command([]Frame{{FCF: FCFCTC, FIF: []byte{0, byte(r.dcsCode() << 2)}}}, stTxWaitResp, true)
			default:
				e.waiting = FCFEOR
				s.command([]Frame{{FCF: FCFEOR, FIF: []byte{withX(e.q, s.xbit)}}}, stTxWaitResp, true)
			}
		case FCFRNR:
			s.stopTimer()
			if e.rnrSince < 0 {
				e.rnrSince = s.now
			} else if s.now-e.rnrSince > T5 {
				s.fail(ErrECMRNRTimeout, true)
				return
			}
			e.waiting = FCFRR
			s.command([]Frame{{FCF: FCFRR}}, stTxWaitResp, true)
		}
	case FCFCTC:
		if f.FCF == FCFCTR {
			s.stopTimer()
			code := int(s.lastCmd[0].FIF[1]>>2) & 0xF
			if r, ok := rateFromDCSCode(code); ok && r != s.settings.Rate {
				s.settings.Rate = r
				s.emit(Event{Kind: EventRate, Rate: r})
			}
			e.ctcUsed, e.ppr, e.longNext = true, 0, true
			s.sendBlock()
		}
	case FCFEOR:
		if f.FCF == FCFERR {
			s.stopTimer()
			e.lost = true
			s.blockDone(false)
		}
	}
}

func (s *session) blockDone(pip bool) {
	e := &s.ecm
	if e.end < len(e.frames) {
		e.block++
		s.setupBlock(e.end)
		s.sendBlock()
		return
	}
	s.pageConfirmed()
	if pip && s.ppm != FCFEOP {
		s.fail(ErrProcedureInterrupt, true)
		return
	}
	if s.ppm == FCFEOP && e.lost {
		s.fail(ErrECMRetriesOut, true)
		return
	}
	s.afterPage(false)
}

// ecmRx collects ECM blocks.
type ecmRx struct {
	frames    [256][]byte
	have      [256]bool
	rcp       bool
	page      []byte
	lastPage  int
	lastBlock int
	confirmed bool // lastPage/lastBlock valid
	longNext  bool
	then      func() // continuation after the last response

	counted           bool // curPage/curBlock/blockFrames describe the block being received
	curPage, curBlock int
	blockFrames       int
}

func (e *ecmRx) put(num int, data []byte) {
	if num < 0 || num > 255 {
		return
	}
	e.frames[num] = append(e.frames[num][:0], data...)
	e.have[num] = true
}

// assemble appends frames 0..n-1 of the block to the page (missing frames
// as zeros of the largest frame size seen) and clears the block.
func (e *ecmRx) assemble(n int) {
	size := 0
	for i := 0; i < n; i++ {
		size = max(size, len(e.frames[i]))
	}
	for i := 0; i < n; i++ {
		if e.have[i] {
			e.page = append(e.page, e.frames[i]...)
		} else {
			e.page = append(e.page, make([]byte, size)...)
		}
	}
	if len(e.page) > maxPageBytes {
		e.page = e.page[:maxPageBytes]
	}
	for i := range e.have {
		e.have[i] = false
	}
}

func (s *session) ecmRespond(fs []Frame, then func()) {
	s.ecmRx.then = then
	s.respond(fs, then)
}

func (s *session) onRxECMCommand(f Frame) {
	e := &s.ecmRx
	s.stopTimer()
	switch f.FCF {
	case FCFPPS:
		q := NormalizeFCF(f.FIF[0])
		pg, blk, n := int(f.FIF[1]), int(f.FIF[2]), int(f.FIF[3])+1
		if e.confirmed && pg == e.lastPage && blk == e.lastBlock {
			s.ecmRespond([]Frame{{FCF: FCFMCF}}, e.then) // our MCF was lost
			return
		}
		// The first PPS of a block counts all its frames; some senders
		// (spandsp) count only the frames of the retransmission in later
		// ones, so keep the largest count seen for the block.
		if !e.counted || pg != e.curPage || blk != e.curBlock {
			e.counted, e.curPage, e.curBlock, e.blockFrames = true, pg, blk, 0
		}
		e.blockFrames = max(e.blockFrames, n)
		n = e.blockFrames
		var ppr [32]byte
		missing := 0
		for i := 0; i < n; i++ {
			if !e.have[i] {
				ppr[i/8] |= 1 << uint(i%8)
				missing++
			}
		}
		s.setPhase(PhaseD)
		if missing > 0 {
			s.ecmRespond([]Frame{{FCF: FCFPPR, FIF: ppr[:]}}, s.awaitImage)
			return
		}
		e.assemble(n)
		e.counted = false
		e.confirmed, e.lastPage, e.lastBlock = true, pg, blk
		s.ecmBlockComplete(q, FCFMCF)
	case FCFCTC:
		if r, ok := rateFromDCSCode(int(f.FIF[1]>>2) & 0xF); ok && s.allow(r) {
			s.settings.Rate = r
			s.emit(Event{Kind: EventRate, Rate: r})
		}
		e.longNext = true
		s.ecmRespond([]Frame{{FCF: FCFCTR}}, s.awaitImage)
	case FCFEOR:
		q := NormalizeFCF(f.FIF[0])
		n := 0
		for i := 255; i >= 0; i-- {
			if e.have[i] {
				n = i + 1
				break
			}
		}
		if e.counted {
			n = max(n, e.blockFrames)
		}
		e.assemble(n)
		e.counted = false
		e.confirmed = false
		s.ecmBlockComplete(q, FCFERR)
	case FCFRR:
		if s.lastResp != nil {
			s.ecmRespond(s.lastResp, e.then)
		}
	default:
		s.setTimer(T2, s.t2Timeout)
	}
}

// ecmBlockComplete answers a finished block with resp (MCF or ERR) and,
// when q ends the page, stores it.
func (s *session) ecmBlockComplete(q, resp byte) {
	e := &s.ecmRx
	if q == FCFNull {
		s.ecmRespond([]Frame{{FCF: resp}}, s.awaitImage)
		return
	}
	ppm := plainPostMessage(q)
	data := e.page
	e.page = data[:0] // the next page reuses the memory: storePage keeps no reference
	if s.storePage(data) == FCFDCN || s.done {
		return
	}
	s.rx.answered = true
	s.ecmRespond([]Frame{{FCF: resp}}, func() { s.afterPostResponse(ppm, FCFMCF) })
}
