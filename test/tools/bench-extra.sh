#!/usr/bin/env bash
# Benchmarks that compare against outside programs and are not Go benchmarks.
# Each suite appends its own command below.
set -euo pipefail
cd "$(dirname "$0")/../.."
go run ./faxengine/t4/internal/tiffbench   # t4/t6 codecs vs libtiff tiffcp (encode/decode MH, MR, MMR)
go run ./faxengine/tiff/internal/convbench   # whole-file TIFF conversion (read, decode, encode, write) vs tiffcp
