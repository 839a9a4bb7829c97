import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif

/// An XML document parsed with `XMLParser`: its root, the root's attributes, its `<polyline>`s and the text of its `<text>`s.
public struct XMLCount {
    public var root = ""
    public var rootAttributes: [String: String] = [:]
    public var polylines = 0
    public var texts: [String] = []

    public init(_ xml: String) throws {
        final class Delegate: NSObject, XMLParserDelegate {
            var result = XMLCount(empty: ())
            var depth = 0, text = "", inText = false
            func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
                        attributes: [String: String] = [:]) {
                if depth == 0 { result.root = name; result.rootAttributes = attributes }
                if name == "polyline" { result.polylines += 1 }
                if name == "text" { inText = true; text = "" }
                depth += 1
            }
            func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
                depth -= 1
                if name == "text" { result.texts.append(text); inText = false }
            }
            func parser(_ parser: XMLParser, foundCharacters string: String) { if inText { text += string } }
        }
        let parser = XMLParser(data: Data(xml.utf8))
        let delegate = Delegate()
        parser.delegate = delegate
        guard parser.parse() else {
            throw NSError(domain: "XMLCount", code: 1, userInfo: [NSLocalizedDescriptionKey: "\(parser.parserError.map { "\($0)" } ?? "parse error") at line \(parser.lineNumber)"])
        }
        self = delegate.result
    }

    private init(empty: Void) {}
}
