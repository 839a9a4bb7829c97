#!/bin/sh
# Builds the libFuzzer target for the LoRAScenario parser; see Fuzz/README.md.
set -eu
cd "$(dirname "$0")/.."
B=.build-fuzz
mkdir -p "$B"
# CLoRAKernels (C helpers of the kernels) and LoRAKernels: plain optimized
# modules, not instrumented (the fuzzer targets the language).
mkdir -p "$B/CLoRAKernels"
cat > "$B/CLoRAKernels/module.modulemap" <<MAP
module CLoRAKernels {
    header "$PWD/Sources/CLoRAKernels/include/lora_bf16_dot.h"
    export *
}
MAP
clang -O2 -march=native -ISources/CLoRAKernels/include -c Sources/CLoRAKernels/*.c -o "$B/CLoRAKernels.o"
swiftc -O -wmo -parse-as-library -module-name LoRAKernels -I "$B/CLoRAKernels" \
    -emit-module -emit-module-path "$B/LoRAKernels.swiftmodule" \
    -c $(find Sources/LoRAKernels -name '*.swift') -o "$B/LoRAKernels.o"
# LoRAScenario: instrumented for coverage and AddressSanitizer; testable for the internal byte check.
swiftc -O -wmo -enable-testing -sanitize=fuzzer,address -parse-as-library -module-name LoRAScenario \
    -I "$B" -I "$B/CLoRAKernels" \
    -emit-module -emit-module-path "$B/LoRAScenario.swiftmodule" \
    -c $(find Sources/LoRAScenario -name '*.swift') -o "$B/LoRAScenario.o"
swiftc -O -sanitize=fuzzer,address -parse-as-library -I "$B" -I "$B/CLoRAKernels" Fuzz/ParserFuzzer.swift \
    "$B/LoRAScenario.o" "$B/LoRAKernels.o" "$B/CLoRAKernels.o" -o "$B/parser-fuzzer"
echo "built $B/parser-fuzzer"
