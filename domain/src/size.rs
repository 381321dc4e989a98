//! Storage sizes as people type them: quotas (`50GiB`, `1.5 GiB`, `none`).

use super::ParseError;

/// Parses sizes like `50GiB`, `500MiB`, `10GB`, `4096`; `none` means no limit.
pub fn parse_size(s: &str) -> Result<Option<u64>, ParseError> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("none") {
        return Ok(None);
    }
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    // Decimals too, as the portal shows sizes ("1.5 GiB").
    let n: f64 = num
        .parse()
        .ok()
        .filter(|n: &f64| n.is_finite() && *n >= 0.0)
        .ok_or_else(|| {
            ParseError::new(format!(
                "invalid size {s:?}: use e.g. 50GiB, 500MiB or none"
            ))
        })?;
    let per_unit: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kib" => 1 << 10,
        "mib" => 1 << 20,
        "gib" => 1 << 30,
        "tib" => 1 << 40,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        "tb" => 1_000_000_000_000,
        other => {
            return Err(ParseError::new(format!(
                "invalid size unit {other:?}: use B, KiB, MiB, GiB or TiB"
            )));
        }
    };
    let bytes = (n * per_unit as f64).round();
    if bytes > i64::MAX as f64 {
        return Err(ParseError::new("that size is too large"));
    }
    Ok(Some(bytes as u64))
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_read_like_people_write_them() {
        assert_eq!(super::parse_size("50GiB"), Ok(Some(50 << 30)));
        assert_eq!(super::parse_size("10 MB"), Ok(Some(10_000_000)));
        assert_eq!(super::parse_size("4096"), Ok(Some(4096)));
        assert_eq!(super::parse_size("none"), Ok(None));
        assert_eq!(super::parse_size("1.5 GiB"), Ok(Some(3 << 29)));
        assert!(super::parse_size("12 parsecs").is_err());
    }
}
