extension Attachment {
    /// `{"url":…,"sha256":…}`, the same on the wire and in the log.
    public var json: [UInt8] {
        var w = JSONWriter()
        w.field("url", url)
        w.field("sha256", sha256)
        return w.finish()
    }
}
