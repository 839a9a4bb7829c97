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
        l2GBps: 5832, warmDRAMFraction: 1,
        launchFloorUs: 2.199,
        programs: [
            "sgemm_lora_a": ProgramCost(startNs: 168.2, stepNs: 541.5, sortedStartNs: 422.3, sortedStepNs: 438.6,
                residentPerSM: 1.678, segmentExitNs: 58.64, excessExitNs: 223.7,
                exitDelayNs: 1819),
            "sgemm_lora_b": ProgramCost(startNs: 0.001, stepNs: 1428, sortedStartNs: 93.53, sortedStepNs: 1443,
                residentPerSM: 0.9591, segmentExitNs: 124.4, excessExitNs: 240.5,
                exitDelayNs: 4235),
            "qkv_lora_b": ProgramCost(startNs: 518, stepNs: 716.7, sortedStartNs: 519.3, sortedStepNs: 788.7,
                residentPerSM: 3.563, segmentExitNs: 76.4, excessExitNs: 90.97,
                exitDelayNs: 665.3),
            "gate_up_lora_b": ProgramCost(startNs: 0.001, stepNs: 333, sortedStartNs: 51.43, sortedStepNs: 289.2,
                residentPerSM: 1.071, segmentExitNs: 76.29, excessExitNs: 62.87,
                exitDelayNs: 50.38),
        ])
        // END FITTED
}
