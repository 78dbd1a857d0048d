import Foundation
import MusterCore

/// config/classifier/*.yaml → the trained `TextClassifier`, every problem located by file,
/// line and key. Each file maps category codes of routing.yaml to lists of example texts:
///
///     manhole_cover:
///       - 小区门口的井盖不见了，晚上差点有人掉进去
///
/// Files are read in name order (only `.yaml`/`.yml`); a category may appear in several files.
/// The categories' names and keywords in routing.yaml train the model too. The reserved code
/// `unclassified` holds texts that fit no category (none of these): the model learns them as a
/// class that is never dispatched, so that such texts go to triage (TextClassifier).
enum ClassifierLoader {
    static func load(folder: String, routing: Routing) throws(ConfigErrors) -> TextClassifier {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: folder, isDirectory: &isDir), isDir.boolValue else {
            throw ConfigErrors(errors: [ConfigError(file: folder, line: nil, key: "", message: "the classifier's examples folder does not exist")])
        }
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: folder) } catch {
            throw ConfigErrors(errors: [ConfigError(file: folder, line: nil, key: "", message: "cannot list: \(error.localizedDescription)")])
        }
        var errors: [ConfigError] = []
        var examples: [(category: String, text: String)] = []
        for name in names.sorted() where name.hasSuffix(".yaml") || name.hasSuffix(".yml") {
            let path = (folder as NSString).appendingPathComponent(name)
            let yaml: YAMLFile, file: [String: [String]]
            do {
                yaml = try YAMLFile(path: path)
                file = try yaml.decode([String: [String]].self)
            } catch { errors += error.errors; continue }
            for (code, texts) in file.sorted(by: { $0.key < $1.key }) {
                guard TextClassifier.isTrainable(code, in: routing) else {
                    errors.append(yaml.error(at: [.name(code)], "unknown category \"\(code)\" (not in routing.yaml, nor `unclassified` for texts that fit none)\(Spelling.hint(code, in: routing.categories.keys.sorted()))"))
                    continue
                }
                for (i, text) in texts.enumerated() {
                    // An example without a single Han character or word teaches nothing.
                    if Features.of(text).isEmpty {
                        errors.append(yaml.error(at: [.name(code), .index(i)], "an example needs words (Chinese characters or letters)"))
                    } else {
                        examples.append((code, text))
                    }
                }
            }
        }
        guard errors.isEmpty else { throw ConfigErrors(errors: errors) }
        return TextClassifier(routing: routing, examples: examples)
    }
}
