/// The calibrated H200 profile.
///
/// Datasheet and measured figures: 132 SMs, 1.98 GHz boost, 60 MB of L2 (as
/// PyTorch reports it), 4,267 GB/s for a device-to-device copy (meta line of
/// gpu/results/h200-sweep.jsonl). The lines between the FITTED markers are
/// written by `lora-viz gpu-fit --write` from the calibration records of
/// gpu/results/ (docs/gpu-model.md); do not edit them by hand.
extension GPUProfile {
    public static let h200 = GPUProfile(
        name: "h200", displayName: "H200", calibrated: true,
        source: "fitted on the real SGLang kernels timed on one H200 (gpu/results/, CUDA graph of 20 calls)",
        smCount: 132, clockGHz: 1.98, dramGBps: 4267, l2Bytes: 60 << 20,
        // BEGIN FITTED
        l2GBps: 4152, warmDRAMFraction: 0.2293,
        launchFloorUs: 1.768,
        programs: [
            "sgemm_lora_a": ProgramCost(startNs: 753.5, stepNs: 509.2, sortedStartNs: 753.5, sortedStepNs: 436.4,
                residentPerSM: 2.071, segmentExitNs: 50.41, excessExitNs: 218.9,
                exitDelayNs: 55.4,
                unalignedStartNs: 439.5, unalignedStepNs: 472.8),
            "sgemm_lora_b": ProgramCost(startNs: 0.001, stepNs: 1510, sortedStartNs: 0.001, sortedStepNs: 1570,
                residentPerSM: 1.069, segmentExitNs: 127.1, excessExitNs: 244.2,
                exitDelayNs: 129.1),
            "qkv_lora_b": ProgramCost(startNs: 577.8, stepNs: 706.4, sortedStartNs: 577.8, sortedStepNs: 749.8,
                residentPerSM: 3.638, segmentExitNs: 77.81, excessExitNs: 94.13,
                exitDelayNs: 17.5),
            "gate_up_lora_b": ProgramCost(startNs: 0.001, stepNs: 1588, sortedStartNs: 0.001, sortedStepNs: 1511,
                residentPerSM: 5.927, segmentExitNs: 76.92, excessExitNs: 64.12,
                exitDelayNs: 176.8),
            "csgmv/sgemm_lora_a": ProgramCost(startNs: 361, stepNs: 338.3, sortedStartNs: 448.8, sortedStepNs: 541.6,
                residentPerSM: 11.29, segmentExitNs: 0.001, excessExitNs: 665.8,
                exitDelayNs: 80),
            "csgmv/sgemm_lora_b": ProgramCost(startNs: 0.001, stepNs: 1510, sortedStartNs: 770.2, sortedStepNs: 438.2,
                residentPerSM: 1.185, segmentExitNs: 61.52, excessExitNs: 244.2,
                exitDelayNs: 129.1),
            "csgmv/qkv_lora_b": ProgramCost(startNs: 76.43, stepNs: 976.5, sortedStartNs: 1068, sortedStepNs: 637.8,
                residentPerSM: 1.837, segmentExitNs: 64.09, excessExitNs: 349.4,
                exitDelayNs: 238.5),
            "csgmv/gate_up_lora_b": ProgramCost(startNs: 0.001, stepNs: 2755, sortedStartNs: 622, sortedStepNs: 620.8,
                residentPerSM: 1.812, segmentExitNs: 74.2, excessExitNs: 103.7,
                exitDelayNs: 175.1),
            "vllm/sgemm_lora_a": ProgramCost(startNs: 43.03, stepNs: 66.17, sortedStartNs: 1577, sortedStepNs: 91.27,
                residentPerSM: 1.92, segmentExitNs: 78.04, excessExitNs: 22.67,
                exitDelayNs: 6.234e+04),
            "vllm/sgemm_lora_b": ProgramCost(startNs: 0.001, stepNs: 1593, sortedStartNs: 1928, sortedStepNs: 254.2,
                residentPerSM: 2.013, segmentExitNs: 82.6, excessExitNs: 97.71,
                exitDelayNs: 13.82),
            "vllm/qkv_lora_b": ProgramCost(startNs: 276.9, stepNs: 469.3, sortedStartNs: 3238, sortedStepNs: 303.9,
                residentPerSM: 1.227, segmentExitNs: 100.2, excessExitNs: 188.5,
                exitDelayNs: 11.27),
            "vllm/gate_up_lora_b": ProgramCost(startNs: 0.001, stepNs: 64.61, sortedStartNs: 8162, sortedStepNs: 1791,
                residentPerSM: 5.089, segmentExitNs: 104.8, excessExitNs: 189.4,
                exitDelayNs: 0.001),
        ])
        // END FITTED
}
