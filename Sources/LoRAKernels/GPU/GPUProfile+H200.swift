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
        l2GBps: 5746, warmDRAMFraction: 1,
        launchFloorUs: 1.99,
        programs: [
            "sgemm_lora_a": ProgramCost(startNs: 272.6, stepNs: 545.1, sortedStartNs: 581.7, sortedStepNs: 438.8,
                residentPerSM: 1.694, segmentExitNs: 60.13, excessExitNs: 226.5,
                exitDelayNs: 1858),
            "sgemm_lora_b": ProgramCost(startNs: 0.001, stepNs: 1501, sortedStartNs: 130.4, sortedStepNs: 1499,
                residentPerSM: 1.001, segmentExitNs: 126.7, excessExitNs: 242,
                exitDelayNs: 4477),
            "qkv_lora_b": ProgramCost(startNs: 542.7, stepNs: 748.1, sortedStartNs: 552.3, sortedStepNs: 826.7,
                residentPerSM: 3.701, segmentExitNs: 76.76, excessExitNs: 91.08,
                exitDelayNs: 858.3),
            "gate_up_lora_b": ProgramCost(startNs: 0.001, stepNs: 1682, sortedStartNs: 258.7, sortedStepNs: 1485,
                residentPerSM: 5.432, segmentExitNs: 77.19, excessExitNs: 61.96,
                exitDelayNs: 21.83),
            "csgmv/sgemm_lora_a": ProgramCost(startNs: 79.62, stepNs: 364.8, sortedStartNs: 234, sortedStepNs: 546.9,
                residentPerSM: 1.402, segmentExitNs: 36.16, excessExitNs: 521.7,
                exitDelayNs: 1087),
            "csgmv/sgemm_lora_b": ProgramCost(startNs: 0.001, stepNs: 1070, sortedStartNs: 677.1, sortedStepNs: 425.9,
                residentPerSM: 1.101, segmentExitNs: 61.98, excessExitNs: 522.5,
                exitDelayNs: 4425),
            "csgmv/qkv_lora_b": ProgramCost(startNs: 373.2, stepNs: 205.7, sortedStartNs: 821.8, sortedStepNs: 623.9,
                residentPerSM: 1.589, segmentExitNs: 61.35, excessExitNs: 280,
                exitDelayNs: 501.1),
            "csgmv/gate_up_lora_b": ProgramCost(startNs: 0.001, stepNs: 1682, sortedStartNs: 685, sortedStepNs: 835.7,
                residentPerSM: 2.237, segmentExitNs: 72.22, excessExitNs: 61.96,
                exitDelayNs: 21.83),
            "vllm/sgemm_lora_a": ProgramCost(startNs: 101.4, stepNs: 139.7, sortedStartNs: 1626, sortedStepNs: 83.62,
                residentPerSM: 2.037, segmentExitNs: 77.88, excessExitNs: 39.38,
                exitDelayNs: 4.368e+04),
            "vllm/sgemm_lora_b": ProgramCost(startNs: 0.001, stepNs: 1070, sortedStartNs: 1797, sortedStepNs: 253.9,
                residentPerSM: 2.123, segmentExitNs: 82.69, excessExitNs: 117.4,
                exitDelayNs: 929.5),
            "vllm/qkv_lora_b": ProgramCost(startNs: 542.7, stepNs: 748.1, sortedStartNs: 3226, sortedStepNs: 309.3,
                residentPerSM: 1.141, segmentExitNs: 98.03, excessExitNs: 164,
                exitDelayNs: 681.6),
            "vllm/gate_up_lora_b": ProgramCost(startNs: 0.001, stepNs: 648.8, sortedStartNs: 8355, sortedStepNs: 1865,
                residentPerSM: 5.216, segmentExitNs: 105.5, excessExitNs: 187.4,
                exitDelayNs: 12.89),
        ])
        // END FITTED
}
