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
        l2GBps: 4341, warmDRAMFraction: 0.6175,
        launchFloorUs: 1.646,
        programs: [
            "sgemm_lora_a": ProgramCost(startNs: 597.8, stepNs: 522.8, sortedStartNs: 943.7, sortedStepNs: 421.3,
                residentPerSM: 1.974, segmentExitNs: 51.99, excessExitNs: 205.3,
                exitDelayNs: 1935),
            "sgemm_lora_b": ProgramCost(startNs: 0.001, stepNs: 1641, sortedStartNs: 214.6, sortedStepNs: 1615,
                residentPerSM: 1.153, segmentExitNs: 126.8, excessExitNs: 240.4,
                exitDelayNs: 2470),
            "qkv_lora_b": ProgramCost(startNs: 716.7, stepNs: 866.6, sortedStartNs: 767.2, sortedStepNs: 903.5,
                residentPerSM: 4.474, segmentExitNs: 78.16, excessExitNs: 93.47,
                exitDelayNs: 408.8),
            "gate_up_lora_b": ProgramCost(startNs: 0.001, stepNs: 1612, sortedStartNs: 285.8, sortedStepNs: 1382,
                residentPerSM: 5.921, segmentExitNs: 77.05, excessExitNs: 63.15,
                exitDelayNs: 5224),
            "csgmv/sgemm_lora_a": ProgramCost(startNs: 224.8, stepNs: 906.9, sortedStartNs: 605.3, sortedStepNs: 536.4,
                residentPerSM: 32, segmentExitNs: 0.001, excessExitNs: 332.1,
                exitDelayNs: 1917),
            "csgmv/sgemm_lora_b": ProgramCost(startNs: 0.001, stepNs: 1070, sortedStartNs: 832.7, sortedStepNs: 467.5,
                residentPerSM: 1.263, segmentExitNs: 61.23, excessExitNs: 522.5,
                exitDelayNs: 4425),
            "csgmv/qkv_lora_b": ProgramCost(startNs: 373.2, stepNs: 205.7, sortedStartNs: 1157, sortedStepNs: 662.5,
                residentPerSM: 1.932, segmentExitNs: 64.76, excessExitNs: 280,
                exitDelayNs: 501.1),
            "csgmv/gate_up_lora_b": ProgramCost(startNs: 0.001, stepNs: 2918, sortedStartNs: 675, sortedStepNs: 665.6,
                residentPerSM: 1.948, segmentExitNs: 74.59, excessExitNs: 100.2,
                exitDelayNs: 21.63),
            "vllm/sgemm_lora_a": ProgramCost(startNs: 101.4, stepNs: 139.7, sortedStartNs: 1736, sortedStepNs: 80.95,
                residentPerSM: 2.071, segmentExitNs: 79.64, excessExitNs: 22.2,
                exitDelayNs: 4.368e+04),
            "vllm/sgemm_lora_b": ProgramCost(startNs: 0.001, stepNs: 1170, sortedStartNs: 2106, sortedStepNs: 242.4,
                residentPerSM: 2.469, segmentExitNs: 85.54, excessExitNs: 109.5,
                exitDelayNs: 745.3),
            "vllm/qkv_lora_b": ProgramCost(startNs: 542.7, stepNs: 748.1, sortedStartNs: 3417, sortedStepNs: 312.4,
                residentPerSM: 1.215, segmentExitNs: 99.53, excessExitNs: 168.5,
                exitDelayNs: 765.2),
            "vllm/gate_up_lora_b": ProgramCost(startNs: 0.001, stepNs: 250.3, sortedStartNs: 8339, sortedStepNs: 1812,
                residentPerSM: 5.176, segmentExitNs: 104.9, excessExitNs: 188.7,
                exitDelayNs: 0.001),
        ])
        // END FITTED
}
