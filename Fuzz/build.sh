#!/bin/sh
# Builds the libFuzzer target for the LoRAScenario parser from Package.swift
# (LORAVIZ_FUZZ=1 adds it), so its modules are the package's and cannot drift;
# see Fuzz/README.md. Arguments pass to swift build (-c release; the default is debug).
set -eu
cd "$(dirname "$0")/.."
LORAVIZ_FUZZ=1 swift build --product lora-viz-parser-fuzzer --scratch-path .build-fuzz "$@"
BIN=$(LORAVIZ_FUZZ=1 swift build --product lora-viz-parser-fuzzer --scratch-path .build-fuzz --show-bin-path "$@")
ln -sf "$BIN/lora-viz-parser-fuzzer" .build-fuzz/parser-fuzzer
echo "built .build-fuzz/parser-fuzzer -> $BIN/lora-viz-parser-fuzzer"
