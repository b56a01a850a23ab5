package faxengine

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/test/testenv"
)

func TestLoadDocuments(t *testing.T) {
	dir := filepath.Join(testenv.SharedDir(t), "testdata")
	a, b := filepath.Join(dir, "chart-std-g3.tif"), filepath.Join(dir, "chart-p1-fine-g3.tif")
	fixed := func() time.Time { return time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC) }
	doc, err := LoadDocuments([]Part{{Path: a, Pages: "2-3"}, {Path: b, Header: "ACME"}}, Options{Ident: "+15551234567", Now: fixed})
	if err != nil {
		t.Fatal(err)
	}
	if len(doc) != 3 {
		t.Fatalf("%d pages, want 3", len(doc))
	}
	plainA, err := LoadDocument(a, Options{Pages: "2-3"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range plainA {
		if !raster.Equal(doc[i], plainA[i]) {
			t.Errorf("page %d of the first document changed", i+1)
		}
	}
	plainB, err := LoadDocument(b, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if raster.Equal(doc[2], plainB[0]) {
		t.Error("the second document's page has no header")
	}
	// Its header numbers the page within the whole fax: page 3 of 3.
	withHeader, err := LoadDocument(b, Options{Header: "ACME", Ident: "+15551234567", Now: fixed})
	if err != nil {
		t.Fatal(err)
	}
	if raster.Equal(doc[2], withHeader[0]) {
		t.Error("header numbered the page within its document, not the fax")
	}
	if _, err := LoadDocuments([]Part{{Path: a, Pages: "4"}}, Options{}); err == nil {
		t.Error("page range past the end accepted")
	}
	if _, err := LoadDocuments(nil, Options{}); err == nil {
		t.Error("no documents accepted")
	}
	f, err := NewDocumentSender(doc, Options{})
	if err != nil || f == nil {
		t.Fatalf("NewDocumentSender: %v", err)
	}
	if _, err := NewDocumentSender(nil, Options{}); err == nil {
		t.Error("empty document accepted")
	}
}
