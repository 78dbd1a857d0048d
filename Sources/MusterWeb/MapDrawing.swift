import Foundation
import MusterCore

/// The grid map as SVG, from grids.yaml's `area` outlines — nothing fetched at run time, no
/// tiles. Each street is filled by its open cases (darker: more), outlined red when any is
/// overdue; each 专属网格 is outlined dashed orange over its member streets. Longitude is scaled
/// by cos(latitude) so that a city-sized map keeps its shape.
public struct MapDrawing: Sendable {
    public let names: Names
    public let width = 1000.0

    public init(names: Names) { self.names = names }

    struct Frame {
        var minLon: Double, maxLat: Double, scale: Double, squeeze: Double
        func point(_ p: GridMap.Point) -> (Double, Double) { ((p.lon - minLon) * squeeze * scale, (maxLat - p.lat) * scale) }
    }

    public func svg(_ tally: GridTally) -> String {
        let areas = names.grids.areas
        let corners = areas.values.flatMap { $0 }
        guard let minLon = corners.map(\.lon).min(), let maxLon = corners.map(\.lon).max(),
              let minLat = corners.map(\.lat).min(), let maxLat = corners.map(\.lat).max(), maxLon > minLon, maxLat > minLat else {
            return "<p class=\"muted\">grids.yaml 未给出网格轮廓（area），无法绘制地图。</p>"
        }
        let squeeze = cos((minLat + maxLat) / 2 * .pi / 180)
        let scale = width / ((maxLon - minLon) * squeeze)
        let frame = Frame(minLon: minLon, maxLat: maxLat, scale: scale, squeeze: squeeze)
        let height = (maxLat - minLat) * scale
        let most = max(1, tally.streets.values.map(\.open).max() ?? 1)
        var fills = "", outlines = "", lateEdges = "", labels = ""
        for (path, ring) in areas.sorted(by: { $0.key < $1.key }) {
            let count = tally.streets[path] ?? .init()
            let points = ring.map { frame.point($0) }.map { String(format: "%.1f,%.1f", $0.0, $0.1) }.joined(separator: " ")
            let name = names.grids.names[path] ?? path
            fills += "<polygon class=\"street\(count.overdue > 0 ? " late" : "")\" points=\"\(points)\" fill=\"\(Self.shade(count.open, of: most))\" data-grid=\"\(Html.escape(path))\" data-open=\"\(count.open)\" data-overdue=\"\(count.overdue)\"><title>\(Html.escape(name))：在办 \(count.open) 件，超期 \(count.overdue) 件</title></polygon>"
            // Red edges above the 专属网格's dashes, so an overdue street inside one still shows it.
            if count.overdue > 0 { lateEdges += "<polygon class=\"late-edge\" points=\"\(points)\"/>" }
            let (cx, cy) = Self.centre(ring.map { frame.point($0) })
            labels += "<text x=\"\(Int(cx))\" y=\"\(Int(cy - 10))\" class=\"name\">\(Html.escape(name.replacingOccurrences(of: "街道", with: "")))</text>"
            labels += "<text x=\"\(Int(cx))\" y=\"\(Int(cy + 16))\" class=\"count\">\(count.open)</text>"
            if count.overdue > 0 { labels += "<text x=\"\(Int(cx))\" y=\"\(Int(cy + 38))\" class=\"late\">超期\(count.overdue)</text>" }
        }
        for d in names.grids.dedicated.values.sorted(by: { $0.code < $1.code }) {
            for (path, ring) in areas where d.members.contains(where: { GridMap.isPrefix($0, of: path) || GridMap.isPrefix(path, of: $0) }) {
                let points = ring.map { frame.point($0) }.map { String(format: "%.1f,%.1f", $0.0, $0.1) }.joined(separator: " ")
                outlines += "<polygon class=\"dedicated\" points=\"\(points)\" data-dedicated=\"\(Html.escape(d.code))\" data-grid=\"\(Html.escape(path))\"/>"
            }
        }
        return """
            <svg class="map" viewBox="-8 -8 \(Int(width) + 16) \(Int(height) + 16)" role="img" aria-label="网格地图">\
            <g>\(fills)</g><g>\(outlines)</g><g>\(lateEdges)</g><g>\(labels)</g></svg>
            """
    }

    /// Pale blue for none, deep blue for the most.
    static func shade(_ n: Int, of most: Int) -> String {
        let t = n == 0 ? 0 : 0.25 + 0.75 * Double(n) / Double(most)
        let (r, g, b) = (232 - t * (232 - 29), 241 - t * (241 - 79), 251 - t * (251 - 145))
        return String(format: "#%02x%02x%02x", Int(r), Int(g), Int(b))
    }

    /// The centroid of a polygon's corners (good enough for a label in a convex outline).
    static func centre(_ pts: [(Double, Double)]) -> (Double, Double) {
        (pts.map(\.0).reduce(0, +) / Double(pts.count), pts.map(\.1).reduce(0, +) / Double(pts.count))
    }
}

enum Html {
    static func escape(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for ch in s {
            switch ch {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(ch)
            }
        }
        return out
    }
}
