//! Tag globs, as immutability rules (and retention) name tags: `v*`, `release-?.?`,
//! `latest`. `*` matches any run of characters, `?` exactly one; everything else
//! matches itself.

use super::ParseError;
use std::fmt;

/// A glob over tag names.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TagPattern(String);

impl TagPattern {
    /// A glob of 1 to 128 characters from the tag alphabet plus `*` and `?`.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let ok = (1..=128).contains(&s.len())
            && s.bytes().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b'*' | b'?')
            });
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(ParseError::new(format!(
                "invalid tag pattern {s:?}: use tag characters (letters, digits, _ . -) with * and ?"
            )))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the tag matches the whole glob.
    pub fn matches(&self, tag: &str) -> bool {
        glob_matches(&self.0, tag)
    }
}

/// Whether `text` matches the whole glob (`*` any run, `?` one character). Greedy
/// matching with one remembered star: linear in practice, and never exponential,
/// whatever the pattern.
pub(crate) fn glob_matches(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        match p.get(pi) {
            Some(b'*') => {
                star = Some((pi, ti));
                pi += 1;
            }
            Some(&c) if c == b'?' || c == t[ti] => {
                pi += 1;
                ti += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    pi = sp + 1;
                    ti = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

impl fmt::Display for TagPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn m(p: &str, t: &str) -> bool {
        TagPattern::parse(p).unwrap().matches(t)
    }

    #[test]
    fn globs() {
        assert!(m("v*", "v1.0"));
        assert!(m("v*", "v"));
        assert!(!m("v*", "1.0"));
        assert!(m("*", "latest"));
        assert!(m("latest", "latest"));
        assert!(!m("latest", "latest2"));
        assert!(m("release-?.?", "release-1.2"));
        assert!(!m("release-?.?", "release-1.22"));
        assert!(m("*-rc*", "2.0-rc1"));
        assert!(!m("*-rc*", "2.0"));
        assert!(m("a*b*c", "aXbYc"));
        assert!(!m("a*b*c", "aXbY"));
        assert!(m("**", ""));
    }

    #[test]
    fn refuses_what_no_tag_holds() {
        for bad in ["", "v/1", "a b", "[ab]", &"x".repeat(129)] {
            assert!(TagPattern::parse(bad).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn a_tag_matches_itself_and_the_star(tag in "[A-Za-z0-9_][A-Za-z0-9_.-]{0,40}") {
            prop_assert!(m(&tag, &tag));
            prop_assert!(m("*", &tag));
            let prefix = format!("{}*", &tag[..1]);
            prop_assert!(m(&prefix, &tag));
        }
    }
}
