import Foundation
import LoRAKernels

/// File helpers shared by the config and adapter readers.
enum ModelFiles {
    /// `path` itself when it is a file, or `path/defaultFile` when it is a folder.
    static func resolve(_ path: String, defaultFile: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ModelFileError(file: path, message: FileProblem.missing(path) ?? "no such file or folder")
        }
        guard isDirectory.boolValue else { return path }
        let file = (path as NSString).appendingPathComponent(defaultFile)
        guard FileManager.default.fileExists(atPath: file) else {
            throw ModelFileError(file: path, message: "is a folder without a \(defaultFile)")
        }
        return file
    }

    static func read(_ file: String) throws -> Data {
        do {
            // Regular files only, and bounded: a FIFO waited forever, /dev/zero read until memory ran out.
            return try RegularFile.read(file, limit: RegularFile.jsonLimit, what: "a JSON config")
        } catch let error as FileReadError {
            throw ModelFileError(file: file, message: error.reason)
        }
    }

    /// The file's JSON, which must be an object.
    static func jsonObject(_ data: Data, file: String) throws -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONValue.parse(data)
        } catch let error as JSONSyntaxError {
            throw ModelFileError(file: file, message: "is not valid JSON: \(error.description)")
        }
        guard let object = value.object else {
            throw ModelFileError(file: file, message: "is \(value.shown), not a JSON object")
        }
        return object
    }

    /// The name of the folder holding `file` ("qwen2.5-7b-instruct" for
    /// "examples/models/qwen2.5-7b-instruct/config.json"), resolved against
    /// the working directory when `file` has no folder part.
    static func folderName(of file: String) -> String {
        let url = URL(fileURLWithPath: file).standardizedFileURL.deletingLastPathComponent()
        return url.lastPathComponent
    }
}
