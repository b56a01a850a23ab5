#!/usr/bin/env bash
# Installs what the test suites need, when it is missing. Idempotent and quiet
# when everything is already there.
set -euo pipefail

debs=(prosody libspandsp-dev libtiff-tools ghostscript pkg-config)
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
