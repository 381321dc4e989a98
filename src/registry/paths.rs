//! Parsing `/v2/…` paths. Repository names contain slashes, so the route is read from
//! the end of the path.

use super::errors::OciError;
use crate::domain::{Digest, Reference, RepositoryName};

#[derive(Debug, PartialEq, Eq)]
pub enum Route {
    Base,
    Catalog,
    Tags {
        name: RepositoryName,
    },
    Manifest {
        name: RepositoryName,
        reference: Reference,
    },
    Referrers {
        name: RepositoryName,
        digest: Digest,
    },
    Blob {
        name: RepositoryName,
        digest: Digest,
    },
    Uploads {
        name: RepositoryName,
    },
    Upload {
        name: RepositoryName,
        id: String,
    },
}

fn name(s: &str) -> Result<RepositoryName, OciError> {
    RepositoryName::parse(s).map_err(|e| OciError::name_invalid().with_message(e.0))
}

fn digest(s: &str) -> Result<Digest, OciError> {
    Digest::parse(s).map_err(|e| OciError::digest_invalid().with_message(e.0))
}

impl Route {
    pub fn parse(path: &str) -> Result<Self, OciError> {
        let not_found = || OciError::name_unknown().with_message("no such endpoint");
        let rest = path.strip_prefix("/v2").ok_or_else(not_found)?;
        if rest.is_empty() || rest == "/" {
            return Ok(Route::Base);
        }
        let rest = rest.strip_prefix('/').ok_or_else(not_found)?;
        if rest == "_catalog" {
            return Ok(Route::Catalog);
        }
        if let Some(n) = rest.strip_suffix("/tags/list") {
            return Ok(Route::Tags { name: name(n)? });
        }
        let (head, last) = rest.rsplit_once('/').ok_or_else(not_found)?;
        let (repo, kind) = head.rsplit_once('/').ok_or_else(not_found)?;
        match kind {
            "manifests" => Ok(Route::Manifest {
                name: name(repo)?,
                reference: Reference::parse(last).map_err(|e| {
                    if last.contains(':') {
                        OciError::digest_invalid().with_message(e.0)
                    } else {
                        OciError::manifest_invalid().with_message(e.0)
                    }
                })?,
            }),
            "referrers" => Ok(Route::Referrers {
                name: name(repo)?,
                digest: digest(last)?,
            }),
            "blobs" => Ok(Route::Blob {
                name: name(repo)?,
                digest: digest(last)?,
            }),
            "uploads" => {
                let repo = repo.strip_suffix("/blobs").ok_or_else(not_found)?;
                let repo = name(repo)?;
                if last.is_empty() {
                    Ok(Route::Uploads { name: repo })
                } else {
                    Ok(Route::Upload {
                        name: repo,
                        id: last.to_owned(),
                    })
                }
            }
            _ => Err(not_found()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> RepositoryName {
        RepositoryName::parse(s).unwrap()
    }

    #[test]
    fn routes_are_read_from_the_end() {
        let d = Digest::sha256_of(b"x");
        assert_eq!(Route::parse("/v2/").unwrap(), Route::Base);
        assert_eq!(Route::parse("/v2/_catalog").unwrap(), Route::Catalog);
        assert_eq!(
            Route::parse("/v2/a/b/c/tags/list").unwrap(),
            Route::Tags { name: n("a/b/c") }
        );
        assert_eq!(
            Route::parse("/v2/acme/app/manifests/latest").unwrap(),
            Route::Manifest {
                name: n("acme/app"),
                reference: Reference::parse("latest").unwrap()
            }
        );
        assert_eq!(
            Route::parse(&format!("/v2/acme/blobs/blobs/{d}")).unwrap(),
            Route::Blob {
                name: n("acme/blobs"),
                digest: d.clone()
            }
        );
        assert_eq!(
            Route::parse("/v2/acme/app/blobs/uploads/").unwrap(),
            Route::Uploads {
                name: n("acme/app")
            }
        );
        assert_eq!(
            Route::parse("/v2/acme/uploads/blobs/uploads/abc").unwrap(),
            Route::Upload {
                name: n("acme/uploads"),
                id: "abc".into()
            }
        );
        assert_eq!(
            Route::parse(&format!("/v2/acme/app/referrers/{d}")).unwrap(),
            Route::Referrers {
                name: n("acme/app"),
                digest: d
            }
        );
    }

    #[test]
    fn bad_paths_get_spec_errors() {
        assert_eq!(
            Route::parse("/v2/Acme/app/tags/list").unwrap_err().code,
            "NAME_INVALID"
        );
        assert_eq!(
            Route::parse("/v2/acme/app/blobs/sha256:zz")
                .unwrap_err()
                .code,
            "DIGEST_INVALID"
        );
        assert_eq!(
            Route::parse("/v2/acme/app/manifests/a:b").unwrap_err().code,
            "DIGEST_INVALID"
        );
        assert_eq!(
            Route::parse("/v2/acme/app/other/x").unwrap_err().code,
            "NAME_UNKNOWN"
        );
        assert!(Route::parse("/v2/acme").is_err());
    }
}
