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
        l2GBps: 4523, warmDRAMFraction: 1,
        launchFloorUs: 3.205,
        programs: [
            "sgemm_lora_a": ProgramCost(startNs: 0.001, stepNs: 501.5, sortedStartNs: 21.31, sortedStepNs: 412.3,
                residentPerSM: 1.634, segmentExitNs: 62.59, excessExitNs: 245.7),
            "sgemm_lora_b": ProgramCost(startNs: 0.001, stepNs: 1190, sortedStartNs: 0.001, sortedStepNs: 1245,
                residentPerSM: 0.8349, segmentExitNs: 116.3, excessExitNs: 231.7),
            "qkv_lora_b": ProgramCost(startNs: 266.8, stepNs: 373.5, sortedStartNs: 238.4, sortedStepNs: 405.1,
                residentPerSM: 1.896, segmentExitNs: 74.57, excessExitNs: 91.74),
            "gate_up_lora_b": ProgramCost(startNs: 0.001, stepNs: 212, sortedStartNs: 16.56, sortedStepNs: 185,
                residentPerSM: 0.6918, segmentExitNs: 76.43, excessExitNs: 63.2),
        ])
        // END FITTED
}
