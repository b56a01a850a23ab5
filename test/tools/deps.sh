#!/usr/bin/env bash
# Installs what the build, the tests and the demo need, when it is missing:
# Debian packages through apt-get and the S3 test server (versitygw) through
# go install. Idempotent, and silent when everything is already there.
set -euo pipefail

if ! command -v go >/dev/null; then
	echo "deps: Go is not installed: rayofax needs Go 1.26 or newer (https://go.dev/dl/)" >&2
	exit 1
fi

# gcc: cgo for -race and the spandsp harness; curl: make demo.
debs=(prosody libspandsp-dev libtiff-tools ghostscript pkg-config gcc libc6-dev curl ca-certificates)
missing=()
for p in "${debs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "deps: installing ${missing[*]}"
	sudo=""
	[ "$(id -u)" -ne 0 ] && sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

gobin=$(go env GOPATH)/bin
if [ ! -x "$gobin/versitygw" ]; then
	echo "deps: installing versitygw (S3 test server)"
	go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
fi
