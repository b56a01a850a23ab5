#!/usr/bin/env bash
# Benchmarks that compare against outside programs and are not Go benchmarks.
# Each suite appends its own command below.
set -euo pipefail
cd "$(dirname "$0")/../.."
