#!/bin/sh
# Builds the libFuzzer target for the LoRAScenario parser; see Fuzz/README.md.
set -eu
cd "$(dirname "$0")/.."
B=.build-fuzz
mkdir -p "$B"
# LoRAKernels: a plain optimized module (the fuzzer targets the language).
swiftc -O -wmo -parse-as-library -module-name LoRAKernels -emit-module -emit-module-path "$B/LoRAKernels.swiftmodule" \
    -c $(find Sources/LoRAKernels -name '*.swift') -o "$B/LoRAKernels.o"
# LoRAScenario: instrumented for coverage and AddressSanitizer; testable for the internal byte check.
swiftc -O -wmo -enable-testing -sanitize=fuzzer,address -parse-as-library -module-name LoRAScenario -I "$B" \
    -emit-module -emit-module-path "$B/LoRAScenario.swiftmodule" \
    -c $(find Sources/LoRAScenario -name '*.swift') -o "$B/LoRAScenario.o"
swiftc -O -sanitize=fuzzer,address -parse-as-library -I "$B" Fuzz/ParserFuzzer.swift \
    "$B/LoRAScenario.o" "$B/LoRAKernels.o" -o "$B/parser-fuzzer"
echo "built $B/parser-fuzzer"
