//! Retention policies: which tags of a repository a policy keeps and which it removes,
//! decided from facts alone (names, push and pull times, immutability) so that the
//! run, the dry run and the portal's preview are one function.

use super::{ParseError, TagPattern};
use std::time::Duration;

/// Parses periods like `30d`, `12h`, `90m`, `45s`, `2w`, or `0`; a bare number is hours.
pub fn parse_period(s: &str) -> Result<Duration, ParseError> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| ParseError::new(format!("invalid period {s:?}: use e.g. 30d, 12h, 90m")))?;
    let per_unit: u64 = match unit {
        "s" => 1,
        "m" => 60,
        "h" | "" => 3600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => {
            return Err(ParseError::new(format!(
                "invalid unit {unit:?}: use s, m, h, d or w"
            )));
        }
    };
    n.checked_mul(per_unit)
        .filter(|s| *s <= 100 * 365 * 86_400)
        .map(Duration::from_secs)
        .ok_or_else(|| ParseError::new("a period is at most 100 years"))
}

/// Prints a period the way `parse_period` reads it, in its largest whole unit up to
/// days (people count retention in days: 14d, not 2w).
pub fn format_period(d: Duration) -> String {
    let s = d.as_secs();
    for (unit, per) in [("d", 86_400), ("h", 3600), ("m", 60)] {
        if s >= per && s.is_multiple_of(per) {
            return format!("{}{unit}", s / per);
        }
    }
    format!("{s}s")
}

/// What a policy keeps. A tag is kept when any keep rule keeps it; tags outside the
/// `tag` / `exclude` filter are never touched; immutable tags are always kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Keep the N most recently pushed of the tags the filter selects.
    pub keep_last: Option<u32>,
    /// Keep tags pushed or pulled within this period.
    pub keep_within: Option<Duration>,
    /// Apply only to tags matching this glob.
    pub tag: Option<TagPattern>,
    /// Never apply to tags matching this glob.
    pub exclude: Option<TagPattern>,
    /// Remove manifests no tag points at once they are older than this.
    pub untagged_older_than: Option<Duration>,
}

/// A tag as a policy sees it. Times are milliseconds since the epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagFacts {
    pub name: String,
    pub pushed_at: i64,
    pub pulled_at: Option<i64>,
    pub immutable: bool,
    /// The tag names another image's signature, attestation or SBOM (cosign's
    /// `sha256-<hex>.sig`, the referrers fallback `sha256-<hex>`) and that image is
    /// there: it stays with it, and takes no place among the last N.
    pub referrer: bool,
}

/// The digest a tag of the referrers' tag schema names (`sha256-<hex>`, optionally
/// followed by `.sig`, `.att`, `.sbom` or any other suffix), as `sha256:<hex>`.
pub fn tagged_subject(tag: &str) -> Option<String> {
    let hex = tag.strip_prefix("sha256-")?;
    let (hex, rest) = hex.split_at_checked(64)?;
    let ok = hex
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        && (rest.is_empty() || rest.starts_with('.'));
    ok.then(|| format!("sha256:{hex}"))
}

/// Reads an optional field: absent and blank alike mean "not set".
fn field(s: Option<&str>) -> Option<&str> {
    s.map(str::trim).filter(|s| !s.is_empty())
}

impl RetentionPolicy {
    /// Parses a policy from its fields as the command line and the portal's form give
    /// them (`--keep-last 10 --keep-days 30d --tag 'v*' --exclude latest
    /// --untagged-older-than 7d`); refuses one that would do nothing.
    pub fn from_fields(
        keep_last: Option<&str>,
        keep_within: Option<&str>,
        tag: Option<&str>,
        exclude: Option<&str>,
        untagged_older_than: Option<&str>,
    ) -> Result<Self, ParseError> {
        let keep_last = field(keep_last)
            .map(|n| {
                n.parse::<u32>()
                    .ok()
                    .filter(|n| *n <= 100_000)
                    .ok_or_else(|| {
                        ParseError::new(format!(
                            "invalid number of tags to keep {n:?}: use a whole number up to 100000"
                        ))
                    })
            })
            .transpose()?;
        // A bare number of days reads as days here, as "--keep-days 30" says.
        let days = |s: &str| {
            if s.bytes().all(|b| b.is_ascii_digit()) {
                parse_period(&format!("{s}d"))
            } else {
                parse_period(s)
            }
        };
        let policy = Self {
            keep_last,
            keep_within: field(keep_within).map(days).transpose()?,
            tag: field(tag).map(TagPattern::parse).transpose()?,
            exclude: field(exclude).map(TagPattern::parse).transpose()?,
            untagged_older_than: field(untagged_older_than).map(days).transpose()?,
        };
        policy.check()?;
        Ok(policy)
    }

    /// The policy in words, for the audit log and the portal.
    pub fn describe(&self) -> String {
        let mut keeps = Vec::new();
        if let Some(n) = self.keep_last {
            keeps.push(format!("the last {n} pushed"));
        }
        if let Some(d) = self.keep_within {
            keeps.push(format!(
                "those pushed or pulled within {}",
                format_period(d)
            ));
        }
        let mut out = if keeps.is_empty() {
            "keeps every tag".to_owned()
        } else {
            format!("keeps {} of", keeps.join(" and "))
        };
        if !keeps.is_empty() {
            match (&self.tag, &self.exclude) {
                (Some(t), Some(e)) => out.push_str(&format!(" the tags matching {t} except {e}")),
                (Some(t), None) => out.push_str(&format!(" the tags matching {t}")),
                (None, Some(e)) => out.push_str(&format!(" the tags except {e}")),
                (None, None) => out.push_str(" the tags"),
            }
        }
        if let Some(d) = self.untagged_older_than {
            out.push_str(&format!(
                "; removes untagged images older than {}",
                format_period(d)
            ));
        }
        out
    }

    /// Refuses a policy that would do nothing, so a typo cannot save an empty one.
    pub fn check(&self) -> Result<(), ParseError> {
        if self.keep_last.is_none()
            && self.keep_within.is_none()
            && self.untagged_older_than.is_none()
        {
            return Err(ParseError::new(
                "a policy needs --keep-last, --keep-days or --untagged-older-than",
            ));
        }
        Ok(())
    }

    /// Whether the policy's tag filter selects the tag.
    pub fn selects(&self, tag: &str) -> bool {
        self.tag.as_ref().is_none_or(|p| p.matches(tag))
            && !self.exclude.as_ref().is_some_and(|p| p.matches(tag))
    }

    /// Indexes into `tags` of the tags the policy removes at `now`. Without a keep rule
    /// for tags, none: the policy then only cleans untagged manifests.
    pub fn doomed(&self, tags: &[TagFacts], now: i64) -> Vec<usize> {
        if self.keep_last.is_none() && self.keep_within.is_none() {
            return vec![];
        }
        let mut selected: Vec<usize> = (0..tags.len())
            .filter(|&i| !tags[i].referrer && self.selects(&tags[i].name))
            .collect();
        // Newest push first; the name breaks ties so every run ranks alike.
        selected.sort_by(|&a, &b| {
            tags[b]
                .pushed_at
                .cmp(&tags[a].pushed_at)
                .then_with(|| tags[a].name.cmp(&tags[b].name))
        });
        let since = self
            .keep_within
            .map(|d| now.saturating_sub(d.as_millis() as i64));
        let mut doomed: Vec<usize> = selected
            .into_iter()
            .enumerate()
            .filter(|&(rank, i)| {
                let t = &tags[i];
                let by_rank = self.keep_last.is_some_and(|n| rank < n as usize);
                let recent = since.is_some_and(|s| t.pushed_at.max(t.pulled_at.unwrap_or(0)) >= s);
                !(by_rank || recent || t.immutable)
            })
            .map(|(_, i)| i)
            .collect();
        doomed.sort_unstable();
        doomed
    }

    /// Whether an untagged manifest created at `created_at` is old enough to go.
    pub fn untagged_expired(&self, created_at: i64, now: i64) -> bool {
        self.untagged_older_than
            .is_some_and(|d| created_at < now.saturating_sub(d.as_millis() as i64))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DAY: i64 = 86_400_000;

    fn tag(name: &str, pushed_days_ago: i64, pulled_days_ago: Option<i64>) -> TagFacts {
        let now = 100 * DAY;
        TagFacts {
            name: name.into(),
            pushed_at: now - pushed_days_ago * DAY,
            pulled_at: pulled_days_ago.map(|d| now - d * DAY),
            immutable: false,
            referrer: false,
        }
    }

    fn names(tags: &[TagFacts], doomed: Vec<usize>) -> Vec<&str> {
        doomed.into_iter().map(|i| tags[i].name.as_str()).collect()
    }

    #[test]
    fn keeps_the_last_n_pushed() {
        let tags = vec![tag("a", 5, None), tag("b", 1, None), tag("c", 3, None)];
        let p = RetentionPolicy {
            keep_last: Some(2),
            ..Default::default()
        };
        assert_eq!(names(&tags, p.doomed(&tags, 100 * DAY)), vec!["a"]);
    }

    #[test]
    fn a_pull_within_the_period_keeps_a_tag() {
        let tags = vec![tag("old", 60, Some(2)), tag("stale", 60, Some(40))];
        let p = RetentionPolicy {
            keep_within: Some(Duration::from_secs(30 * 86_400)),
            ..Default::default()
        };
        assert_eq!(names(&tags, p.doomed(&tags, 100 * DAY)), vec!["stale"]);
    }

    #[test]
    fn any_keep_rule_keeps_and_the_filter_and_immutability_protect() {
        let mut tags = vec![
            tag("1.0", 90, None),
            tag("1.1", 80, None),
            tag("latest", 90, None),
            tag("2.0", 1, None),
            tag("0.9", 95, None),
        ];
        tags[4].immutable = true;
        let p = RetentionPolicy {
            keep_last: Some(1),
            keep_within: Some(Duration::from_secs(85 * 86_400)),
            exclude: Some(TagPattern::parse("latest").unwrap()),
            ..Default::default()
        };
        // 2.0 by rank, 1.1 by age; latest is excluded, 0.9 is immutable.
        assert_eq!(names(&tags, p.doomed(&tags, 100 * DAY)), vec!["1.0"]);
        let only_rc = RetentionPolicy {
            keep_last: Some(0),
            tag: Some(TagPattern::parse("*-rc*").unwrap()),
            ..Default::default()
        };
        let rcs = vec![tag("1.0-rc1", 9, None), tag("1.0", 9, None)];
        assert_eq!(
            names(&rcs, only_rc.doomed(&rcs, 100 * DAY)),
            vec!["1.0-rc1"]
        );
    }

    #[test]
    fn signature_tags_stay_and_take_no_place() {
        let hex = "ab".repeat(32);
        assert_eq!(
            tagged_subject(&format!("sha256-{hex}.sig")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(
            tagged_subject(&format!("sha256-{hex}")),
            Some(format!("sha256:{hex}"))
        );
        assert_eq!(tagged_subject(&format!("sha256-{hex}x")), None);
        assert_eq!(tagged_subject("sha256-abc.sig"), None);
        let mut tags = vec![
            tag("sig", 1, None),
            tag("v1", 50, None),
            tag("v2", 60, None),
        ];
        tags[0].referrer = true;
        let p = RetentionPolicy {
            keep_last: Some(1),
            ..Default::default()
        };
        // The signature is newest yet keeps nothing, and is kept itself.
        assert_eq!(names(&tags, p.doomed(&tags, 100 * DAY)), vec!["v2"]);
    }

    #[test]
    fn without_a_tag_rule_no_tag_goes() {
        let tags = vec![tag("a", 500, None)];
        let p = RetentionPolicy {
            untagged_older_than: Some(Duration::from_secs(86_400)),
            ..Default::default()
        };
        assert!(p.doomed(&tags, 100 * DAY).is_empty());
        assert!(p.untagged_expired(100 * DAY - 2 * DAY, 100 * DAY));
        assert!(!p.untagged_expired(100 * DAY - DAY / 2, 100 * DAY));
        assert!(RetentionPolicy::default().check().is_err());
        assert!(p.check().is_ok());
    }

    #[test]
    fn fields_parse_into_a_policy_and_read_back_in_words() {
        let p =
            RetentionPolicy::from_fields(Some("10"), Some("30"), Some("v*"), Some(""), Some("7d"))
                .unwrap();
        assert_eq!(p.keep_last, Some(10));
        assert_eq!(p.keep_within, Some(Duration::from_secs(30 * 86_400)));
        assert_eq!(p.exclude, None);
        assert_eq!(
            p.describe(),
            "keeps the last 10 pushed and those pushed or pulled within 30d of the tags matching v*; removes untagged images older than 7d"
        );
        assert!(RetentionPolicy::from_fields(Some("x"), None, None, None, None).is_err());
        assert!(RetentionPolicy::from_fields(None, None, Some("v*"), None, None).is_err());
        assert!(RetentionPolicy::from_fields(Some("1"), None, Some("a b"), None, None).is_err());
    }

    #[test]
    fn periods_read_and_print_alike() {
        assert_eq!(
            parse_period("30d").unwrap(),
            Duration::from_secs(30 * 86_400)
        );
        assert_eq!(
            parse_period("2w").unwrap(),
            Duration::from_secs(14 * 86_400)
        );
        assert_eq!(format_period(Duration::from_secs(30 * 86_400)), "30d");
        assert_eq!(format_period(Duration::from_secs(14 * 86_400)), "14d");
        assert_eq!(format_period(Duration::from_secs(90 * 60)), "90m");
        assert!(parse_period("3y").is_err());
        assert!(parse_period("").is_err());
    }

    proptest! {
        /// Whatever the tags, the kept ones include the N newest selected and every
        /// immutable one, and nothing outside the filter goes.
        #[test]
        fn the_newest_the_immutable_and_the_unselected_stay(
            ages in proptest::collection::vec((0i64..200, any::<bool>(), any::<bool>()), 0..30),
            n in 0u32..5,
        ) {
            let tags: Vec<TagFacts> = ages.iter().enumerate().map(|(i, (age, frozen, rc))| TagFacts {
                name: format!("{}{i}", if *rc { "rc" } else { "v" }),
                pushed_at: 1_000 - age,
                pulled_at: None,
                immutable: *frozen,
                referrer: false,
            }).collect();
            let p = RetentionPolicy {
                keep_last: Some(n),
                tag: Some(TagPattern::parse("rc*").unwrap()),
                ..Default::default()
            };
            let doomed = p.doomed(&tags, 1_000);
            for &i in &doomed {
                prop_assert!(!tags[i].immutable);
                prop_assert!(tags[i].name.starts_with("rc"));
                // At least n selected tags rank before it: pushed later, or at once.
                let newer = tags.iter().enumerate()
                    .filter(|&(j, t)| j != i && t.name.starts_with("rc") && t.pushed_at >= tags[i].pushed_at)
                    .count();
                prop_assert!(newer >= n as usize);
            }
        }
    }
}
