// MovieLensLoader: reads raw MovieLens-100K files (u.data, Latin-1 u.item, optional u.user) into a Dataset
// with the same item fields as RecBole's ml-100k (movie_title, release_year, class).
import Foundation

/// Reader of the raw MovieLens-100K layout.
public enum MovieLensLoader {
    /// The 19 genre flags of u.item, in column order (as in u.genre).
    public static let genres = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
                                "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
                                "Romance", "Sci-Fi", "Thriller", "War", "Western"]

    /// Splits "Toy Story (1995)" into ("Toy Story", "1995"); a title without a trailing "(YYYY)" is kept whole.
    public static func splitTitle(_ full: String) -> (title: String, year: String?) {
        let s = full.trimmingCharacters(in: .whitespaces)
        let chars = Array(s)
        guard chars.count >= 6, chars[chars.count - 1] == ")", chars[chars.count - 6] == "(",
              chars[(chars.count - 5)..<(chars.count - 1)].allSatisfy({ $0.isASCII && $0.isNumber }) else {
            return (s, nil)
        }
        let year = String(chars[(chars.count - 5)..<(chars.count - 1)])
        let title = String(chars[0..<(chars.count - 6)]).trimmingCharacters(in: .whitespaces)
        return (title, year)
    }

    /// Loads `<folder>/u.data` (user \t item \t rating \t timestamp, no header; the rating a finite number, kept
    /// as `Dataset.ratings`), `<folder>/u.item`
    /// (pipe-separated, Latin-1: id|title (year)|release date|video date|URL|19 genre flags) when present,
    /// and `<folder>/u.user` (id|age|gender|occupation|zip) when present.
    /// Item fields: movie_title, release_year (from the title, else from the release date), class
    /// (names of the set genre flags, space-separated). User fields: age, gender, occupation, zip_code.
    public static func load(folder: String, options: LoadOptions = LoadOptions()) throws -> Dataset {
        let dir = folder as NSString
        var raw = RawCorpus(name: (folder as NSString).lastPathComponent)
        let dataPath = dir.appendingPathComponent("u.data")
        raw.interactionsPath = dataPath
        raw.hasRatings = true
        for line in try TextLines(path: dataPath).lines {
            let f = splitFields(line.text, 0x09)
            guard f.count == 4 else {
                raw.errors.add(dataPath, line.number, "expected 4 tab-separated fields (user, item, rating, timestamp), found \(f.count)")
                continue
            }
            guard !f[0].isEmpty, !f[1].isEmpty else {
                raw.errors.add(dataPath, line.number, "empty \(f[0].isEmpty ? "user" : "item") id"); continue
            }
            guard let ts = parseTimestamp(f[3]) else {
                raw.errors.add(dataPath, line.number, "timestamp '\(f[3])' is not a number"); continue
            }
            guard let rating = parseRating(f[2]) else {
                raw.errors.add(dataPath, line.number, "rating '\(f[2])' is not a finite number"); continue
            }
            raw.records.append(.init(user: String(f[0]), item: String(f[1]), timestamp: ts, line: line.number, rating: rating))
        }

        let itemPath = dir.appendingPathComponent("u.item")
        if FileManager.default.fileExists(atPath: itemPath) {
            raw.itemFieldNames = ["movie_title", "release_year", "class"]
            raw.itemSource = itemPath
            let expected = 5 + genres.count
            for line in try TextLines(path: itemPath, encoding: .latin1).lines {
                let f = splitFields(line.text, 0x7C)
                guard f.count == expected else {
                    raw.errors.add(itemPath, line.number, "expected \(expected) '|'-separated fields, found \(f.count)")
                    continue
                }
                let flags = f[5...]
                guard flags.allSatisfy({ $0 == "0" || $0 == "1" }) else {
                    raw.errors.add(itemPath, line.number, "genre flags must be 0 or 1"); continue
                }
                let id = String(f[0])
                if id.isEmpty { raw.errors.add(itemPath, line.number, "empty item id"); continue }
                if raw.itemRecords[id] != nil { continue }
                var (title, year) = splitTitle(String(f[1]))
                if year == nil {
                    let date = f[2].trimmingCharacters(in: .whitespaces)
                    if date.count >= 4, date.suffix(4).allSatisfy({ $0.isASCII && $0.isNumber }) { year = String(date.suffix(4)) }
                }
                let cls = zip(genres, flags).filter { $0.1 == "1" }.map { $0.0 }.joined(separator: " ")
                raw.itemRecords[id] = ["movie_title": title, "release_year": year ?? "", "class": cls]
            }
        }

        let userPath = dir.appendingPathComponent("u.user")
        if FileManager.default.fileExists(atPath: userPath) {
            let names = ["age", "gender", "occupation", "zip_code"]
            raw.userFieldNames = names
            for line in try TextLines(path: userPath, encoding: .latin1).lines {
                let f = splitFields(line.text, 0x7C)
                guard f.count == 5 else {
                    raw.errors.add(userPath, line.number, "expected 5 '|'-separated fields, found \(f.count)"); continue
                }
                let id = String(f[0])
                if id.isEmpty { raw.errors.add(userPath, line.number, "empty user id"); continue }
                if raw.userRecords[id] != nil { continue }
                var rec: [String: String] = [:]
                for (n, v) in zip(names, f[1...]) { rec[n] = String(v) }
                raw.userRecords[id] = rec
            }
        }
        return try raw.clean(options)
    }
}
