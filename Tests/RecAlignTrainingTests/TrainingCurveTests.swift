// TrainingCurveTests: the SVG curve draws both panels, labels the validation axis, and marks the kept checkpoint.
import Foundation
import Testing
import RecAlignTraining
import RecAlignRetrieval
import RecAlignMetrics

@Suite struct TrainingCurveTests {
    /// Metrics whose Recall@10 and NDCG@10 come from 10 users' ranks (1 = a hit at the top).
    func metrics(hits: Int, rank: Int) -> MetricSummary {
        MetricSummary(ranks: Array(repeating: rank, count: hits) + Array(repeating: 1000, count: 10 - hits))
    }

    @Test func marksTheBestValidationAndLabelsTheAxis() {
        var rows: [LogRow] = (1...40).map { .train(step: $0, epoch: 0, loss: 4 - Double($0) / 20, lr: 1e-4, examplesPerSecond: 5) }
        // Step 20 and step 30 tie on Recall@10; step 30 has the better NDCG@10 (hits at rank 1, not 5): it is kept.
        rows += [.valid(step: 0, metrics: metrics(hits: 1, rank: 1)), .valid(step: 10, metrics: metrics(hits: 2, rank: 5)),
                 .valid(step: 20, metrics: metrics(hits: 3, rank: 5)), .valid(step: 30, metrics: metrics(hits: 3, rank: 1)),
                 .valid(step: 40, metrics: metrics(hits: 2, rank: 1))]
        let svg = TrainingCurve.svg(rows, title: "RecAlign full", validationLabel: "validation metric (cosine + text prior)")
        #expect(svg.contains(">best 30</text>"))
        #expect(svg.contains(">validation metric (cosine + text prior)</text>"))
        #expect(svg.contains(">training loss (MNRL)</text>"))
        #expect(svg.components(separatedBy: "<polyline").count - 1 == 4)   // raw loss, smoothed loss, Recall@10, NDCG@10
    }

    @Test func equalValidationsKeepTheEarliest() {
        let rows: [LogRow] = [.valid(step: 0, metrics: metrics(hits: 2, rank: 2)), .valid(step: 25, metrics: metrics(hits: 2, rank: 2))]
        #expect(TrainingCurve.svg(rows, title: "t").contains(">best 0</text>"))
    }
}
