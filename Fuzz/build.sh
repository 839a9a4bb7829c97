#!/bin/sh
# Builds lora-viz's libFuzzer targets from Package.swift (LORAVIZ_FUZZ=1 adds
# them), so their modules are the package's and cannot drift, and links each
# target's name to the one binary: .build-fuzz/parser-fuzzer, keys-fuzzer, …
# (see Fuzz/README.md). Arguments pass to swift build (-c release; the default is debug).
set -eu
cd "$(dirname "$0")/.."
LORAVIZ_FUZZ=1 swift build --product lora-viz-fuzzer --scratch-path .build-fuzz "$@"
BIN=$(LORAVIZ_FUZZ=1 swift build --product lora-viz-fuzzer --scratch-path .build-fuzz --show-bin-path "$@")
for target in parser session keys replay safetensors model-config adapter-config gpu-results; do
    ln -sf "$BIN/lora-viz-fuzzer" ".build-fuzz/$target-fuzzer"
done
echo "built $BIN/lora-viz-fuzzer; targets: .build-fuzz/*-fuzzer"
