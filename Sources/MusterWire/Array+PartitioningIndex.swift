extension Array {
    /// The first index whose element satisfies `belongs`, by binary search: the elements that
    /// do must all come after those that do not (a sorted array and a threshold).
    @inlinable
    public func partitioningIndex(where belongs: (Element) -> Bool) -> Int {
        var low = 0, high = count
        while low < high {
            let mid = (low + high) / 2
            if belongs(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
