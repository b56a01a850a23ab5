package main

import (
	"bufio"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"strings"
	"time"

	"github.com/rayofax/rayofax/faxengine/header"
	"github.com/rayofax/rayofax/faxengine/page"
	"github.com/rayofax/rayofax/faxengine/raster"
	"github.com/rayofax/rayofax/faxengine/tiff"
)

// The tiff command. Input files are read with tiff.DefaultLimits: pages up
// to 16384 pels wide, 65536 rows long and 2^27 pels in all (a grayscale
// page then costs at most 128 MiB while it is converted, and only one page
// is held at a time); a file beyond them, or broken in any way, makes the
// command fail with status 1 and a message naming the problem. convert
// writes OUT.tmp and renames it, so OUT is either complete or absent.
const tiffUsage = `tiff info FILE
tiff convert IN OUT [--compression mh|mr|mmr|none] [--resolution standard|fine|superfine|408x391|200x200|300x300|400x400]
             [--width a4|b4|a3] [--pages 1-3,5] [--header TEXT [--ident ID] [--date RFC3339]] [--dither|--threshold]
             [--fill-order 1|2] [--long split|scale]
tiff render IN OUT.png [--page N]`

func init() {
	register("tiff", "inspect, convert and preview TIFF documents", tiffUsage, runTIFF)
}

func runTIFF(env *Env, args []string) error {
	if len(args) == 0 {
		return usage("missing subcommand (info, convert or render)")
	}
	switch args[0] {
	case "info":
		return tiffInfo(env, args[1:])
	case "convert":
		return tiffConvert(env, args[1:])
	case "render":
		return tiffRender(env, args[1:])
	}
	return usage("unknown subcommand %q (want info, convert or render)", args[0])
}

func tiffInfo(env *Env, args []string) error {
	fs := flag.NewFlagSet("tiff info", flag.ContinueOnError)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usage("tiff info takes one FILE")
	}
	f, err := tiff.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(env.Stdout)
	defer w.Flush()
	fmt.Fprintf(w, "%s: %d page(s)\n", pos[0], f.NumPages())
	for i := 0; i < f.NumPages(); i++ {
		p := f.Page(i)
		res := "resolution unknown"
		switch {
		case p.XRes > 0:
			res = fmt.Sprintf("%gx%g dpi", round2(p.XRes), round2(p.YRes))
		case p.Aspect > 0:
			res = fmt.Sprintf("aspect %g (no unit)", round2(p.Aspect))
		}
		comp := p.Compression.String()
		if p.Compression == tiff.CompressionT4 {
			if p.T4Options&tiff.T4TwoD != 0 {
				comp += " MR"
			} else {
				comp += " MH"
			}
			if p.T4Options&tiff.T4FillBits != 0 {
				comp += ", byte-aligned EOL"
			}
		}
		kind := "bilevel"
		if !p.Bilevel() {
			kind = fmt.Sprintf("%v, %d bit(s) x %d sample(s)", p.Photometric, p.BitsPerSample, p.SamplesPerPixel)
		}
		order := "1 (MSB first)"
		if p.FillOrder == 2 {
			order = "2 (LSB first)"
		}
		layout := fmt.Sprintf("%d rows/strip", p.RowsPerStrip)
		if p.Tiled {
			layout = fmt.Sprintf("%dx%d tiles", p.TileWidth, p.TileHeight)
		}
		fmt.Fprintf(w, "page %d: %dx%d, %s, compression %s, fill order %s, %s, %s\n",
			i+1, p.Width, p.Height, res, comp, order, kind, layout)
		if p.Software != "" || p.DateTime != "" || p.PageNumber >= 0 {
			num := "none"
			if p.PageNumber >= 0 {
				num = fmt.Sprintf("%d of ?", p.PageNumber+1)
				if p.PageTotal > 0 {
					num = fmt.Sprintf("%d of %d", p.PageNumber+1, p.PageTotal)
				}
			}
			fmt.Fprintf(w, "  page number %s, software %q, date %q\n", num, p.Software, p.DateTime)
		}
		if p.BadFaxLines >= 0 || p.CleanFaxData >= 0 {
			fmt.Fprintf(w, "  bad fax lines %d, consecutive %d, clean fax data %d\n", p.BadFaxLines, p.ConsecutiveBadFaxLines, p.CleanFaxData)
		}
	}
	return nil
}

func round2(v float64) float64 { return float64(int(v*100+0.5)) / 100 }

func tiffConvert(env *Env, args []string) error {
	fs := flag.NewFlagSet("tiff convert", flag.ContinueOnError)
	compression := fs.String("compression", "mh", "")
	resolution := fs.String("resolution", "", "")
	width := fs.String("width", "", "")
	pages := fs.String("pages", "", "")
	hdr := fs.String("header", "", "")
	ident := fs.String("ident", "", "")
	date := fs.String("date", "", "")
	dither := fs.Bool("dither", false, "")
	threshold := fs.Bool("threshold", false, "")
	fillOrder := fs.Int("fill-order", 1, "")
	long := fs.String("long", "split", "")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usage("tiff convert takes IN and OUT")
	}
	wopts := tiff.WriterOptions{FillOrder: *fillOrder}
	switch *compression {
	case "mh":
		wopts.Coding = tiff.MH
	case "mr":
		wopts.Coding = tiff.MR
	case "mmr":
		wopts.Coding = tiff.MMR
	case "none":
		wopts.Coding = tiff.Uncompressed
	default:
		return usage("--compression %q: want mh, mr, mmr or none", *compression)
	}
	if *fillOrder != 1 && *fillOrder != 2 {
		return usage("--fill-order %d: want 1 or 2", *fillOrder)
	}
	var opts page.Options
	if *resolution != "" {
		if opts.Resolution, err = page.ParseResolution(*resolution); err != nil {
			return usage("--resolution: %v", err)
		}
	}
	if *width != "" {
		if opts.Width, err = page.ParseWidth(*width); err != nil {
			return usage("--width: %v", err)
		}
	}
	switch {
	case *dither && *threshold:
		return usage("--dither and --threshold exclude each other")
	case *threshold:
		opts.Method = page.Threshold
	}
	switch *long {
	case "split":
	case "scale":
		opts.LongPages = page.ScaleLong
	default:
		return usage("--long %q: want split or scale", *long)
	}
	when := time.Now()
	if *date != "" {
		if when, err = time.Parse(time.RFC3339, *date); err != nil {
			return usage("--date: %v", err)
		}
	}
	if (*ident != "" || *date != "") && *hdr == "" {
		return usage("--ident and --date need --header")
	}
	in, out := pos[0], pos[1]

	f, err := tiff.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	sel, err := page.SelectPages(*pages, f.NumPages())
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	// Count the fax pages first, so that each page can be converted,
	// numbered and written in turn: memory holds one page at a time.
	total := 0
	for _, i := range sel {
		p := f.Page(i)
		n, err := page.Count(p.Width, p.Height, p.XRes, p.YRes, p.Bilevel(), opts)
		if err != nil {
			return fmt.Errorf("%s: page %d: %w", in, i+1, err)
		}
		total += n
	}

	// Write to a temporary file and rename, so OUT is never half written.
	tmp := out + ".tmp"
	w, err := tiff.Create(tmp, wopts)
	if err != nil {
		return err
	}
	fail := func(err error) error {
		w.Close()
		os.Remove(tmp)
		return err
	}
	written := 0
	for _, i := range sel {
		img, err := f.Decode(i)
		if err != nil {
			return fail(fmt.Errorf("%s: %w", in, err))
		}
		p := f.Page(i)
		fitted, err := page.Fit(img, p.XRes, p.YRes, opts)
		if err != nil {
			return fail(fmt.Errorf("%s: page %d: %w", in, i+1, err))
		}
		for _, bm := range fitted {
			written++
			if *hdr != "" {
				h := header.Header{Text: *hdr, Ident: *ident, Time: when, Page: written, Pages: total}
				maxRows := bm.Height
				for _, r := range page.Resolutions {
					if r.X == bm.XRes && r.Y == bm.YRes {
						maxRows = max(maxRows, r.Rows(opts.Length))
					}
				}
				if bm, err = header.Apply(bm, h, maxRows); err != nil {
					return fail(err)
				}
			}
			if err := w.WritePage(bm, tiff.PageMeta{Time: when}); err != nil {
				return fail(fmt.Errorf("%s: page %d: %w", out, written, err))
			}
		}
	}
	if written != total {
		return fail(fmt.Errorf("internal error: %d pages written, %d counted", written, total))
	}
	if err := w.Sync(); err != nil {
		return fail(err)
	}
	if err := w.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, out); err != nil {
		os.Remove(tmp)
		return err
	}
	fmt.Fprintf(env.Stdout, "%s: %d page(s), %v\n", out, written, wopts.Coding)
	return nil
}

func tiffRender(env *Env, args []string) error {
	fs := flag.NewFlagSet("tiff render", flag.ContinueOnError)
	pageNo := fs.Int("page", 1, "")
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 2 {
		return usage("tiff render takes IN and OUT.png")
	}
	if !strings.HasSuffix(strings.ToLower(pos[1]), ".png") {
		return usage("output %q must end in .png", pos[1])
	}
	f, err := tiff.Open(pos[0])
	if err != nil {
		return err
	}
	defer f.Close()
	if *pageNo < 1 || *pageNo > f.NumPages() {
		return fmt.Errorf("%s: --page %d: the file has %d page(s)", pos[0], *pageNo, f.NumPages())
	}
	img, err := f.Decode(*pageNo - 1)
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	if bm, ok := img.(*raster.Bitmap); ok {
		img = paletted(bm)
	}
	out, err := os.Create(pos[1])
	if err != nil {
		return err
	}
	if err := png.Encode(out, img); err != nil {
		out.Close()
		os.Remove(pos[1])
		return fmt.Errorf("%s: %w", pos[1], err)
	}
	if err := out.Close(); err != nil {
		return err
	}
	return nil
}

// paletted makes a 1-bit PNG-friendly copy of a bitmap (white 0, black 1).
func paletted(bm *raster.Bitmap) image.Image {
	p := image.NewPaletted(image.Rect(0, 0, bm.Width, bm.Height), color.Palette{color.White, color.Black})
	for y := 0; y < bm.Height; y++ {
		row := bm.Row(y)
		dst := p.Pix[y*p.Stride : y*p.Stride+bm.Width]
		for x := range dst {
			dst[x] = row[x>>3] >> (7 - uint(x&7)) & 1
		}
	}
	return p
}
