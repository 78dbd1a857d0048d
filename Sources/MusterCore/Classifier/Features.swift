/// The features of a complaint's text: overlapping character n-grams.
///
/// No Swift library for Chinese word segmentation is available to this project (jieba, HanLP,
/// pkuseg are Python, Java or C++ with dictionaries to ship), so words are not cut: every run
/// of Han characters gives its uni- and bigrams (trigrams were tried and dropped: docs/CLASSIFIER.md). A bigram such as 井盖 or 摊贩 carries
/// most of a word's meaning without a dictionary, and a wrong "word" (盖丢) costs nothing but a
/// feature that no category has seen. Runs of ASCII letters are words (lower-cased: LED, app).
/// Digits, punctuation and spaces end a run: 3号楼 and 15度 say where and how much, not what.
///
/// A feature is a UInt64, so that the hot path hashes integers, not strings: a Han n-gram packs
/// its scalars 21 bits each (uni `a`, bi `a<<21|b`; no scalar is 0, so the two never collide);
/// an ASCII word is its FNV-1a hash with the top bit set.
public enum Features {
    public typealias Feature = UInt64

    /// The text's distinct features, in first-seen order (a document is a set of features:
    /// a caller who repeats 井盖 three times has not said more about the category).
    public static func of(_ text: String) -> [Feature] {
        var out: [Feature] = []
        out.reserveCapacity(text.unicodeScalars.count * 2)
        var seen = Set<Feature>(minimumCapacity: text.unicodeScalars.count * 2)
        func add(_ f: Feature) { if seen.insert(f).inserted { out.append(f) } }
        var b: UInt64 = 0                         // the Han scalar before this one (0: none)
        var word: UInt64 = fnvBasis, wordLength = 0
        func endWord() {
            if wordLength > 0 { add(word | asciiWordBit) }
            word = fnvBasis; wordLength = 0
        }
        for scalar in text.unicodeScalars {
            var v = scalar.value
            if (0xFF01...0xFF5E).contains(v) { v -= 0xFEE0 }   // full-width Ａ１ → A1
            if isHan(v) {
                endWord()
                let c = UInt64(v)
                add(c)
                if b != 0 { add(b << 21 | c) }
                b = c
            } else if (0x41...0x5A).contains(v) || (0x61...0x7A).contains(v) {
                b = 0
                word = (word ^ UInt64(v | 0x20)) &* fnvPrime   // | 0x20: lower case
                wordLength += 1
            } else {
                b = 0
                endWord()
            }
        }
        endWord()
        return out
    }

    /// CJK unified ideographs (basic and extension A) and compatibility ideographs.
    @inline(__always) static func isHan(_ v: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0xF900...0xFAFF).contains(v)
    }

    static let asciiWordBit: UInt64 = 1 << 63
    static let fnvBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    static let fnvPrime: UInt64 = 0x100_0000_01b3
}
