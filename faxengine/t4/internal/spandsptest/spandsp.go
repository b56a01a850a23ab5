//go:build spandsp

// Package spandsptest runs spandsp's T.4/T.6 coder (libspandsp, through
// cgo) against packages t4 and t6: pages coded by one side are decoded by
// the other, bit by bit in line order as a modem carries them. It is built
// only with the spandsp tag: `go test -tags spandsp ./faxengine/t4/...`.
package spandsptest

/*
#cgo pkg-config: spandsp
#include <stdlib.h>
#include <stdint.h>
#include <spandsp.h>
*/
import "C"

import (
	"errors"
	"unsafe"
)

// Compression values of spandsp's T.4 API.
const (
	MH  = int(C.T4_COMPRESSION_ITU_T4_1D)
	MR  = int(C.T4_COMPRESSION_ITU_T4_2D)
	MMR = int(C.T4_COMPRESSION_ITU_T6)
)

// Encode has spandsp code the first page of a TIFF file for the line
// (bytes in line order, RTC or EOFB at the end).
func Encode(tiffPath string, compression, minRowBits int) ([]byte, error) {
	cs := C.CString(tiffPath)
	defer C.free(unsafe.Pointer(cs))
	s := C.t4_tx_init(nil, cs, -1, -1)
	if s == nil {
		return nil, errors.New("spandsp: t4_tx_init failed")
	}
	defer C.t4_tx_release(s)
	C.t4_tx_set_tx_encoding(s, C.int(compression))
	C.t4_tx_set_min_bits_per_row(s, C.int(minRowBits))
	if C.t4_tx_start_page(s) != 0 {
		return nil, errors.New("spandsp: t4_tx_start_page failed")
	}
	var data []byte
	buf := make([]byte, 4096)
	for {
		n := int(C.t4_tx_get_chunk(s, (*C.uint8_t)(unsafe.Pointer(&buf[0])), C.int(len(buf))))
		data = append(data, buf[:n]...)
		if n < len(buf) {
			break
		}
	}
	C.t4_tx_end_page(s)
	return data, nil
}

// Stats are spandsp's counts for a received page.
type Stats struct {
	Rows, BadRows, LongestBadRun int
	EndSeen                      bool // t4_rx_put_bit reported the end of the page
}

// Decode feeds coded bytes (line order) to spandsp bit by bit, writing
// the page to a fine-resolution TIFF file at outPath.
func Decode(data []byte, compression, width int, outPath string) (Stats, error) {
	cs := C.CString(outPath)
	defer C.free(unsafe.Pointer(cs))
	s := C.t4_rx_init(nil, cs, C.T4_COMPRESSION_ITU_T4_2D)
	if s == nil {
		return Stats{}, errors.New("spandsp: t4_rx_init failed")
	}
	C.t4_rx_set_rx_encoding(s, C.int(compression))
	C.t4_rx_set_image_width(s, C.int(width))
	C.t4_rx_set_x_resolution(s, C.T4_X_RESOLUTION_R8)
	C.t4_rx_set_y_resolution(s, C.T4_Y_RESOLUTION_FINE)
	if C.t4_rx_start_page(s) != 0 {
		C.t4_rx_release(s)
		return Stats{}, errors.New("spandsp: t4_rx_start_page failed")
	}
	var st Stats
	for _, b := range data {
		for k := 0; k < 8; k++ {
			if C.t4_rx_put_bit(s, C.int(b>>uint(k)&1)) != 0 {
				st.EndSeen = true
			}
		}
	}
	C.t4_rx_end_page(s)
	var ts C.t4_stats_t
	C.t4_rx_get_transfer_statistics(s, &ts)
	C.t4_rx_release(s)
	st.Rows, st.BadRows, st.LongestBadRun = int(ts.length), int(ts.bad_rows), int(ts.longest_bad_row_run)
	return st, nil
}
