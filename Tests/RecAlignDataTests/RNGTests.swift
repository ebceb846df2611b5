// RNGTests: SplitMix64 against the protocol's published outputs, state save / restore, shuffles.
import Testing
import RecAlignData

@Test func splitMixFirstOutputsFromState42() {
    var r = SplitMix64(seed: 42)
    #expect(r.next() == 13679457532755275413)
    #expect(r.next() == 2949826092126892291)
    #expect(r.next() == 5139283748462763858)
}

@Test func splitMixResumesFromSavedState() {
    var a = SplitMix64(seed: 7)
    for _ in 0..<5 { _ = a.next() }
    let saved = a.state
    let expected = (0..<4).map { _ in a.next() }
    var b = SplitMix64(state: saved)
    #expect((0..<4).map { _ in b.next() } == expected)
}

@Test func partialShuffleMatchesHandComputation() {
    // n = 6, m = 1: j = 0 + 13679457532755275413 % 6 = 1 -> a = [1, 0, 2, ...], first = 1.
    var r = SplitMix64(seed: 42)
    #expect(r.partialShuffle(n: 6, m: 1) == [1])
    // n = 3, m = 3: j0 = 0 + o1 % 3, j1 = 1 + o2 % 2, j2 = 2 + 0.
    var r2 = SplitMix64(seed: 42)
    var a = [0, 1, 2]
    a.swapAt(0, Int(UInt64(13679457532755275413) % 3))
    a.swapAt(1, 1 + Int(UInt64(2949826092126892291) % 2))
    #expect(r2.partialShuffle(n: 3, m: 3) == a)
}

@Test func shuffleIsAPermutationAndSeeded() {
    var a = Array(0..<50), b = Array(0..<50)
    var r1 = SplitMix64(seed: 43), r2 = SplitMix64(seed: 43)
    r1.shuffle(&a); r2.shuffle(&b)
    #expect(a == b)
    #expect(a.sorted() == Array(0..<50))
    #expect(a != Array(0..<50))
    var c = Array(0..<50)
    var r3 = SplitMix64(seed: 44)
    r3.shuffle(&c)
    #expect(c != a)
}
