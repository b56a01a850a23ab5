package faxengine

import (
	"fmt"
	"time"

	"github.com/rayofax/rayofax/faxengine/header"
	"github.com/rayofax/rayofax/faxengine/page"
	"github.com/rayofax/rayofax/faxengine/t30"
)

// Part is one document of a fax made of several (a Rayo sendfax with more
// than one <document/>).
type Part struct {
	Path   string // TIFF file
	Pages  string // page ranges of this document, XEP-0342 syntax; empty for all
	Header string // header line text for this document's pages; empty for none
}

// LoadDocuments loads parts one after another as a single fax. Each part's
// pages are selected and fitted as LoadDocument does; a part's header goes on
// its own pages, with the page numbers counted over the whole fax. o.Pages and
// o.Header are not used; o.Ident and o.Now are.
func LoadDocuments(parts []Part, o Options) (Document, error) {
	if len(parts) == 0 {
		return nil, ErrNoPages
	}
	var doc Document
	var headers []string
	for i, p := range parts {
		d, err := LoadDocument(p.Path, Options{Pages: p.Pages})
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", i+1, err)
		}
		doc = append(doc, d...)
		for range d {
			headers = append(headers, p.Header)
		}
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	t := now()
	for i, bm := range doc {
		if headers[i] == "" {
			continue
		}
		res := page.Resolution{X: bm.XRes, Y: bm.YRes}
		h := header.Header{Text: headers[i], Ident: o.Ident, Time: t, Page: i + 1, Pages: len(doc)}
		out, err := header.Apply(bm, h, res.Rows(page.A4Length))
		if err != nil {
			return nil, fmt.Errorf("faxengine: header on page %d: %w", i+1, err)
		}
		doc[i] = out
	}
	return doc, nil
}

// NewDocumentSender prepares a fax of pages already loaded (LoadDocument,
// LoadDocuments).
func NewDocumentSender(doc Document, o Options) (*Fax, error) {
	if len(doc) == 0 {
		return nil, ErrNoPages
	}
	c := o.t30Config()
	c.Document = doc
	term, err := t30.NewTerminal(c)
	if err != nil {
		return nil, fmt.Errorf("faxengine: %w", err)
	}
	return &Fax{term: term}, nil
}
