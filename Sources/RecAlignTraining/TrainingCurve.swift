// TrainingCurve: an SVG of training loss and validation Recall@10 / NDCG@10 against the step, built as plain text.
import Foundation
import RecAlignFormats
import RecAlignRetrieval
import RecAlignMetrics

/// Renders the training curve of a log: top panel the training loss (raw, faint, and a moving average),
/// bottom panel validation Recall@10 and NDCG@10 (`validationLabel` on its axis) with the best validation
/// (the kept checkpoint: Recall@10, NDCG@10 breaking ties, the earliest) marked, sharing the step axis.
public enum TrainingCurve {
    public static func svg(_ rows: [LogRow], title: String, validationLabel: String = "validation metric") -> String {
        let width = 760.0, panelH = 230.0, left = 70.0, right = 150.0, top = 40.0, gap = 60.0
        let plotW = width - left - right
        let losses = rows.compactMap { r -> (Double, Double)? in
            if case let .train(s, _, l, _, _) = r, l.isFinite { return (Double(s), l) }; return nil
        }
        let valids = rows.compactMap { r -> (Double, Double, Double)? in
            if case let .valid(s, m) = r { return (Double(s), m.recall10, m.ndcg10) }; return nil
        }
        let maxStep = max(1, (losses.map(\.0) + valids.map(\.0)).max() ?? 1)
        let height = top + 2 * panelH + gap + 50
        var s = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" font-family=\"sans-serif\" font-size=\"12\">\n"
        s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        // A long title (a method with its init text) shrinks to fit the width (about 0.55 em per character).
        let titleSize = min(15, (width - 20) / (0.55 * Double(max(1, title.count))))
        s += "<text x=\"\(width / 2)\" y=\"22\" text-anchor=\"middle\" font-size=\"\(fmt(titleSize))\">\(escape(title))</text>\n"

        func panel(y0: Double, yLabel: String, lo: Double, hi: Double, series: [(name: String, color: String, points: [(Double, Double)], faint: Bool)]) {
            let span = hi - lo > 0 ? hi - lo : 1
            func px(_ x: Double) -> Double { left + plotW * x / maxStep }
            func py(_ y: Double) -> Double { y0 + panelH - panelH * (y - lo) / span }
            s += "<rect x=\"\(left)\" y=\"\(y0)\" width=\"\(plotW)\" height=\"\(panelH)\" fill=\"none\" stroke=\"#444\"/>\n"
            for i in 0...4 {
                let v = lo + span * Double(i) / 4, y = py(v)
                s += "<line x1=\"\(left)\" y1=\(q(y)) x2=\"\(left + plotW)\" y2=\(q(y)) stroke=\"#ddd\"/>\n"
                s += "<text x=\"\(left - 6)\" y=\(q(y + 4)) text-anchor=\"end\">\(fmt(v))</text>\n"
                let sx = maxStep * Double(i) / 4
                s += "<text x=\(q(px(sx))) y=\(q(y0 + panelH + 16)) text-anchor=\"middle\">\(Int(sx.rounded()))</text>\n"
            }
            s += "<text transform=\"translate(16,\(y0 + panelH / 2)) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>\n"
            var legendY = y0 + 14
            for ser in series where !ser.points.isEmpty {
                let pts = ser.points.map { "\(fmt(px($0.0))),\(fmt(py($0.1)))" }.joined(separator: " ")
                s += "<polyline fill=\"none\" stroke=\"\(ser.color)\" stroke-width=\"\(ser.faint ? 1 : 2)\" stroke-opacity=\"\(ser.faint ? 0.35 : 1)\" points=\"\(pts)\"/>\n"
                if ser.points.count <= 60 && !ser.faint {
                    for p in ser.points { s += "<circle cx=\(q(px(p.0))) cy=\(q(py(p.1))) r=\"3\" fill=\"\(ser.color)\"/>\n" }
                }
                s += "<line x1=\"\(left + plotW + 10)\" y1=\(q(legendY - 4)) x2=\"\(left + plotW + 30)\" y2=\(q(legendY - 4)) stroke=\"\(ser.color)\" stroke-width=\"\(ser.faint ? 1 : 2)\" stroke-opacity=\"\(ser.faint ? 0.35 : 1)\"/>\n"
                s += "<text x=\"\(left + plotW + 35)\" y=\(q(legendY))>\(escape(ser.name))</text>\n"
                legendY += 18
            }
        }
        // Loss panel.
        let smooth = movingAverage(losses, window: max(1, losses.count / 20))
        let lossVals = losses.map(\.1)
        panel(y0: top, yLabel: "training loss (MNRL)", lo: min(lossVals.min() ?? 0, 0), hi: (lossVals.max() ?? 1) * 1.05,
              series: [("loss", "#1f77b4", losses, true), ("loss, moving avg", "#1f77b4", smooth, false)])
        // Validation panel.
        let y1 = top + panelH + gap
        let rec = valids.map { ($0.0, $0.1) }, ndcg = valids.map { ($0.0, $0.2) }
        let hi = max(0.01, ((rec + ndcg).map(\.1).max() ?? 0.01) * 1.15)
        panel(y0: y1, yLabel: validationLabel, lo: 0, hi: hi,
              series: [("Recall@10", "#d62728", rec, false), ("NDCG@10", "#2ca02c", ndcg, false)])
        // The trainer's rule (`isBetter`), over the log in step order: ties keep the earliest.
        var best: (step: Int, metrics: MetricSummary)? = nil
        for case let .valid(step, m) in rows where m.isBetter(than: best?.metrics) { best = (step, m) }
        if let best {
            let x = left + plotW * Double(best.step) / maxStep
            s += "<line x1=\(q(x)) y1=\(q(y1)) x2=\(q(x)) y2=\(q(y1 + panelH)) stroke=\"#888\" stroke-dasharray=\"4,3\"/>\n"
            s += "<text x=\(q(x + 4)) y=\(q(y1 + 12)) font-size=\"11\" fill=\"#555\">best \(best.step)</text>\n"
        }
        s += "<text x=\"\(left + plotW / 2)\" y=\"\(y1 + panelH + 38)\" text-anchor=\"middle\">optimizer step</text>\n"
        s += "</svg>\n"
        return s
    }

    /// Writes the SVG atomically.
    public static func write(_ rows: [LogRow], title: String, validationLabel: String = "validation metric",
                             to path: String) throws {
        try AtomicFile.write(svg(rows, title: title, validationLabel: validationLabel), to: path)
    }

    static func movingAverage(_ pts: [(Double, Double)], window: Int) -> [(Double, Double)] {
        guard window > 1 else { return pts }
        var out: [(Double, Double)] = [], sum = 0.0
        for (i, p) in pts.enumerated() {
            sum += p.1
            if i >= window { sum -= pts[i - window].1 }
            out.append((p.0, sum / Double(min(i + 1, window))))
        }
        return out
    }
    static func fmt(_ v: Double) -> String {
        if v == 0 { return "0" }
        return abs(v) >= 100 ? String(format: "%.0f", v) : abs(v) >= 1 ? String(format: "%.2f", v) : String(format: "%.3f", v)
    }
    static func q(_ v: Double) -> String { "\"\(String(format: "%.1f", v))\"" }
    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
