/// The calibrated H200 profile.
///
/// Datasheet and measured figures: 132 SMs, 1.98 GHz boost, 60 MB of L2 (as
/// PyTorch reports it), 4,267 GB/s for a device-to-device copy (meta line of
/// gpu/results/h200-sweep.jsonl). The lines between the FITTED markers are
/// written by `lora-viz gpu-fit --write` from the calibration records of
/// gpu/results/ (docs/gpu-model.md); do not edit them by hand.
extension GPUProfile {
    static let fittedH200 = GPUProfile(
        name: "h200", displayName: "H200", calibrated: true,
        source: "fitted on the real SGLang kernels timed on one H200 (gpu/results/, CUDA graph of 20 calls)",
        smCount: 132, clockGHz: 1.98, dramGBps: 4267, l2Bytes: 60 << 20,
        // BEGIN FITTED
        l2GBps: 5960, warmDRAMFraction: 1,
        launchFloorUs: 1.519,
        programs: [
            "sgemm_lora_a": ProgramCost(startNs: 716.8, stepNs: 510.7, sortedStartNs: 716.8, sortedStepNs: 426.9,
                residentPerSM: 1.528, segmentExitNs: 62.38, excessExitNs: 98.03,
                exitDelayNs: 54.05,
                unalignedStartNs: 644.8, unalignedStepNs: 430.6),
            "sgemm_lora_b": ProgramCost(startNs: 0.001, stepNs: 1746, sortedStartNs: 0.001, sortedStepNs: 1874,
                residentPerSM: 1.303, segmentExitNs: 128.5, excessExitNs: 239.2,
                exitDelayNs: 23.98),
            "qkv_lora_b": ProgramCost(startNs: 628.2, stepNs: 897.1, sortedStartNs: 628.2, sortedStepNs: 845.8,
                residentPerSM: 4.185, segmentExitNs: 76.15, excessExitNs: 83.76,
                exitDelayNs: 2.302),
            "gate_up_lora_b": ProgramCost(startNs: 0.001, stepNs: 1680, sortedStartNs: 0.001, sortedStepNs: 1176,
                residentPerSM: 4.052, segmentExitNs: 76.69, excessExitNs: 64.22,
                exitDelayNs: 155.8),
            "csgmv/sgemm_lora_a": ProgramCost(startNs: 716.8, stepNs: 510.7, sortedStartNs: 725.9, sortedStepNs: 541.1,
                residentPerSM: 3.065, segmentExitNs: 93.03, excessExitNs: 98.03,
                exitDelayNs: 54.05),
            "csgmv/sgemm_lora_b": ProgramCost(startNs: 0.001, stepNs: 2441, sortedStartNs: 883.8, sortedStepNs: 504.6,
                residentPerSM: 1.33, segmentExitNs: 60.09, excessExitNs: 556.5,
                exitDelayNs: 186.8),
            "csgmv/qkv_lora_b": ProgramCost(startNs: 183.5, stepNs: 600.3, sortedStartNs: 1181, sortedStepNs: 694.9,
                residentPerSM: 1.958, segmentExitNs: 64.74, excessExitNs: 192.9,
                exitDelayNs: 1.347),
            "csgmv/gate_up_lora_b": ProgramCost(startNs: 0.001, stepNs: 1124, sortedStartNs: 690.9, sortedStepNs: 741.4,
                residentPerSM: 2.064, segmentExitNs: 73.79, excessExitNs: 147.9,
                exitDelayNs: 91.16),
            "vllm/sgemm_lora_a": ProgramCost(startNs: 14.33, stepNs: 81.83, sortedStartNs: 1765, sortedStepNs: 88.95,
                residentPerSM: 2.055, segmentExitNs: 79.88, excessExitNs: 17.48,
                exitDelayNs: 6.104e+04),
            "vllm/sgemm_lora_b": ProgramCost(startNs: 0.001, stepNs: 2575, sortedStartNs: 2265, sortedStepNs: 211.2,
                residentPerSM: 2.641, segmentExitNs: 86.93, excessExitNs: 109.3,
                exitDelayNs: 14.29),
            "vllm/qkv_lora_b": ProgramCost(startNs: 117.5, stepNs: 222.3, sortedStartNs: 3482, sortedStepNs: 318.8,
                residentPerSM: 1.296, segmentExitNs: 101, excessExitNs: 185,
                exitDelayNs: 11.61),
            "vllm/gate_up_lora_b": ProgramCost(startNs: 0.001, stepNs: 15.54, sortedStartNs: 8496, sortedStepNs: 1851,
                residentPerSM: 5.26, segmentExitNs: 105, excessExitNs: 187.8,
                exitDelayNs: 0.001),
        ])
        // END FITTED

    /// The calibrated H200 profile: the fit above, with the record of its
    /// direction on the held-out cases (GPUDirectionRecord.h200).
    public static let h200: GPUProfile = {
        var p = fittedH200
        p.directionRecord = .h200
        return p
    }()
}
