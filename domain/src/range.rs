//! Byte ranges: `Content-Range` of upload chunks and `Range` of blob reads.

use super::ParseError;

/// The `Content-Range: <start>-<end>` of a PATCH chunk (inclusive end, no unit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentRange {
    pub start: u64,
    pub end: u64,
}

impl ContentRange {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let s = s.trim();
        // Some clients send the unit anyway; accept it.
        let s = s
            .strip_prefix("bytes ")
            .or_else(|| s.strip_prefix("bytes="))
            .unwrap_or(s);
        let s = s.split('/').next().unwrap_or(s);
        let (a, b) = s
            .split_once('-')
            .ok_or_else(|| ParseError::new(format!("invalid Content-Range {s:?}")))?;
        let start: u64 = a
            .parse()
            .map_err(|_| ParseError::new("invalid Content-Range start"))?;
        let end: u64 = b
            .parse()
            .map_err(|_| ParseError::new("invalid Content-Range end"))?;
        if end < start {
            return Err(ParseError::new("Content-Range ends before it starts"));
        }
        Ok(Self { start, end })
    }

    pub fn len(&self) -> u64 {
        self.end - self.start + 1
    }

    pub fn is_empty(&self) -> bool {
        false
    }
}

/// A single-range `Range: bytes=...` request of a blob read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=a-b` or `bytes=a-`.
    From { start: u64, end: Option<u64> },
    /// `bytes=-n`: the last n bytes.
    Suffix(u64),
}

impl ByteRange {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let spec = s
            .trim()
            .strip_prefix("bytes=")
            .ok_or_else(|| ParseError::new("only byte ranges are supported"))?;
        if spec.contains(',') {
            return Err(ParseError::new("multiple ranges are not supported"));
        }
        let (a, b) = spec
            .split_once('-')
            .ok_or_else(|| ParseError::new("invalid Range"))?;
        let num = |x: &str| {
            x.trim()
                .parse::<u64>()
                .map_err(|_| ParseError::new("invalid Range"))
        };
        match (a.trim().is_empty(), b.trim().is_empty()) {
            (true, false) => Ok(ByteRange::Suffix(num(b)?)),
            (false, true) => Ok(ByteRange::From {
                start: num(a)?,
                end: None,
            }),
            (false, false) => {
                let (start, end) = (num(a)?, num(b)?);
                if end < start {
                    return Err(ParseError::new("invalid Range"));
                }
                Ok(ByteRange::From {
                    start,
                    end: Some(end),
                })
            }
            (true, true) => Err(ParseError::new("invalid Range")),
        }
    }

    /// The inclusive `(start, end)` within a blob of `size` bytes, or `None` when the
    /// range cannot be satisfied (416).
    pub fn resolve(self, size: u64) -> Option<(u64, u64)> {
        match self {
            ByteRange::From { start, end } => {
                if start >= size {
                    return None;
                }
                Some((start, end.map_or(size - 1, |e| e.min(size - 1))))
            }
            ByteRange::Suffix(0) => None,
            ByteRange::Suffix(n) => {
                if size == 0 {
                    return None;
                }
                Some((size.saturating_sub(n), size - 1))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_of_chunks() {
        assert_eq!(
            ContentRange::parse("0-99").unwrap(),
            ContentRange { start: 0, end: 99 }
        );
        assert_eq!(ContentRange::parse("100-100").unwrap().len(), 1);
        assert_eq!(
            ContentRange::parse("bytes 5-9/*").unwrap(),
            ContentRange { start: 5, end: 9 }
        );
        for bad in ["", "5", "9-5", "a-b", "-1", "1-"] {
            assert!(ContentRange::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn byte_ranges_resolve_against_the_size() {
        let r = |s| ByteRange::parse(s).unwrap();
        assert_eq!(r("bytes=0-9").resolve(100), Some((0, 9)));
        assert_eq!(r("bytes=90-200").resolve(100), Some((90, 99)));
        assert_eq!(r("bytes=10-").resolve(100), Some((10, 99)));
        assert_eq!(r("bytes=-10").resolve(100), Some((90, 99)));
        assert_eq!(r("bytes=-1000").resolve(100), Some((0, 99)));
        assert_eq!(r("bytes=100-").resolve(100), None);
        assert_eq!(r("bytes=-0").resolve(100), None);
        for bad in ["0-9", "bytes=9-5", "bytes=0-1,5-6", "bytes=-", "items=0-1"] {
            assert!(ByteRange::parse(bad).is_err(), "{bad}");
        }
    }
}
