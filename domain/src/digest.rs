//! Content digests (`algorithm:hex`) and the incremental hashers that produce them.

use super::ParseError;
use sha2::digest::common::hazmat::SerializableState;
use sha2::{Digest as _, Sha256, Sha512};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

/// A digest in canonical form: a supported algorithm and lowercase hex of the right length.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

impl Digest {
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let (alg, hex) = s
            .split_once(':')
            .ok_or_else(|| ParseError::new(format!("invalid digest {s:?}")))?;
        let algorithm = match alg {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            _ => {
                return Err(ParseError::new(format!(
                    "unsupported digest algorithm {alg:?}"
                )));
            }
        };
        if hex.len() != algorithm.hex_len()
            || !hex
                .bytes()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
        {
            return Err(ParseError::new(format!("invalid digest {s:?}")));
        }
        Ok(Self {
            algorithm,
            hex: hex.to_owned(),
        })
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The digest of a byte slice, for manifests and small documents.
    pub fn of(algorithm: Algorithm, bytes: &[u8]) -> Self {
        let mut h = Hasher::new(algorithm);
        h.update(bytes);
        h.finish()
    }

    pub fn sha256_of(bytes: &[u8]) -> Self {
        Self::of(Algorithm::Sha256, bytes)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.as_str(), self.hex)
    }
}

/// An incremental hasher for one of the supported algorithms.
#[derive(Clone)]
pub enum Hasher {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    pub fn new(algorithm: Algorithm) -> Self {
        match algorithm {
            Algorithm::Sha256 => Hasher::Sha256(Sha256::new()),
            Algorithm::Sha512 => Hasher::Sha512(Sha512::new()),
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        match self {
            Hasher::Sha256(_) => Algorithm::Sha256,
            Hasher::Sha512(_) => Algorithm::Sha512,
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::Sha512(h) => h.update(bytes),
        }
    }

    pub fn finish(self) -> Digest {
        let (algorithm, hex) = match self {
            Hasher::Sha256(h) => (Algorithm::Sha256, hex::encode(h.finalize())),
            Hasher::Sha512(h) => (Algorithm::Sha512, hex::encode(h.finalize())),
        };
        Digest { algorithm, hex }
    }

    /// The hasher's state as bytes, so another process can continue it: a tag naming
    /// the layout (the `sha2` crate's 0.11 serialisation) and the algorithm, then that
    /// state. A later layout gets another tag; `from_state` refuses tags it does not know.
    pub fn to_state(&self) -> Vec<u8> {
        let (tag, state): (&[u8], Vec<u8>) = match self {
            Hasher::Sha256(h) => (STATE_SHA256, h.serialize().to_vec()),
            Hasher::Sha512(h) => (STATE_SHA512, h.serialize().to_vec()),
        };
        [tag, &state].concat()
    }

    /// A hasher from `to_state`'s bytes; `None` when they are not such a state.
    pub fn from_state(bytes: &[u8]) -> Option<Hasher> {
        if let Some(state) = bytes.strip_prefix(STATE_SHA256) {
            let state = state.try_into().ok()?;
            return Sha256::deserialize(state).ok().map(Hasher::Sha256);
        }
        let state = bytes.strip_prefix(STATE_SHA512)?.try_into().ok()?;
        Sha512::deserialize(state).ok().map(Hasher::Sha512)
    }
}

/// The tags of serialised hash states (see [`Hasher::to_state`]).
const STATE_SHA256: &[u8] = b"sha2-0.11/sha256:";
const STATE_SHA512: &[u8] = b"sha2-0.11/sha512:";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sha256_and_sha512() {
        let d = Digest::sha256_of(b"hello");
        assert_eq!(
            d.to_string(),
            "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
        );
        assert_eq!(Digest::parse(&d.to_string()).unwrap(), d);
        let d512 = Digest::of(Algorithm::Sha512, b"hello");
        assert_eq!(d512.hex().len(), 128);
        assert_eq!(Digest::parse(&d512.to_string()).unwrap(), d512);
    }

    #[test]
    fn refuses_malformed_digests() {
        let hex = "a".repeat(64);
        for bad in [
            String::new(),
            "sha256".into(),
            format!("sha256:{}", "A".repeat(64)),
            format!("sha256:{}", "a".repeat(63)),
            format!("md5:{hex}"),
            format!("sha512:{hex}"),
            format!("sha256:{}g", "a".repeat(63)),
        ] {
            assert!(Digest::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn hashing_in_pieces_equals_hashing_at_once() {
        let mut h = Hasher::new(Algorithm::Sha512);
        h.update(b"hel");
        h.update(b"lo");
        assert_eq!(h.finish(), Digest::of(Algorithm::Sha512, b"hello"));
    }

    #[test]
    fn a_serialised_hash_state_continues_where_it_stopped() {
        let data: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
        for algorithm in [Algorithm::Sha256, Algorithm::Sha512] {
            let mut h = Hasher::new(algorithm);
            // An odd length leaves a partial block in the state.
            h.update(&data[..4_099]);
            let state = h.to_state();
            let mut resumed = Hasher::from_state(&state).expect("a state");
            resumed.update(&data[4_099..]);
            assert_eq!(resumed.finish(), Digest::of(algorithm, &data));
        }
        let state = Hasher::new(Algorithm::Sha256).to_state();
        assert!(Hasher::from_state(&state[..state.len() - 1]).is_none());
        assert!(Hasher::from_state(b"sha2-0.12/sha256:").is_none());
    }
}
