import XCTest
@testable import LoRAKernels

final class RoutingTests: XCTestCase {
    func batch(_ slots: [Int], lengths: [Int]? = nil, slotCount: Int = 4, mode: Mode = .decode) -> Batch {
        let adapters = (0..<slotCount).map { Adapter(name: "a\($0)", rank: 8, slot: $0) }
        let lens = lengths ?? slots.map { _ in 1 }
        return Batch(slotCount: slotCount, adapters: adapters,
                     sequences: zip(slots, lens).map { BatchSequence(adapter: "a\($0)", tokens: $1) }, mode: mode)
    }

    func testPerSequenceRouting() {
        let r = Routing.perSequence(batch([2, 0, 2, 1]))
        XCTAssertEqual(r.segmentLengths, [1, 1, 1, 1])
        XCTAssertEqual(r.segmentStarts, [0, 1, 2, 3, 4])
        XCTAssertEqual(r.weightIndices, [2, 0, 2, 1])
        XCTAssertEqual(r.maxLength, 1)
        XCTAssertNil(r.permutation)
        XCTAssertEqual(r.physicalRow(segment: 3, row: 0), 3)
    }

    /// `perm = stable_argsort(wi)`; segment `a` holds slot `a`'s tokens in batch order.
    func testSortedRoutingIsAStableArgsort() {
        let r = Routing.sorted(batch([2, 0, 2, 1, 0, 2]))
        XCTAssertEqual(r.permutation, [1, 4, 3, 0, 2, 5])
        XCTAssertEqual(r.segmentLengths, [2, 1, 3, 0])
        XCTAssertEqual(r.segmentStarts, [0, 2, 3, 6, 6])
        XCTAssertEqual(r.weightIndices, [0, 1, 2, 3])
        XCTAssertEqual(r.maxLength, 6, "max_len = bs, not the longest segment")
        XCTAssertEqual((0..<3).map { r.physicalRow(segment: 2, row: $0) }, [0, 2, 5])
        XCTAssertFalse(r.isWhatIf)
    }

    /// Extend batches sort per token (a what-if): every token carries its sequence's slot.
    func testExtendSortsPerToken() {
        let b = batch([1, 0, 1], lengths: [2, 3, 1], mode: .extend)
        let p = Routing.perSequence(b)
        XCTAssertEqual(p.segmentLengths, [2, 3, 1])
        XCTAssertEqual(p.maxLength, 3)
        let s = Routing.sorted(b)
        XCTAssertTrue(s.isWhatIf)
        XCTAssertEqual(s.maxLength, 6)
        XCTAssertEqual(s.segmentLengths, [3, 3, 0, 0])
        XCTAssertEqual(s.permutation, [2, 3, 4, 0, 1, 5])
    }

    /// Decode ignores stored token counts: every sequence is one token.
    func testDecodeForcesOneToken() {
        let b = batch([0, 1], lengths: [7, 9])
        XCTAssertEqual(b.totalTokens, 2)
        XCTAssertEqual(Routing.perSequence(b).segmentLengths, [1, 1])
    }
}
