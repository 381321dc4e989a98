//! Manifests and tags: parsing and checking pushed manifests, serving them back with
//! the exact bytes pushed, tag listing, deletion and the referrers API.

use super::webhooks::EventFacts;
use super::{Error, Invalid, Result, Services, Thing, now_ms};
use crate::db::{Manifest, NewManifest, PutManifestRefused};
use crate::domain::{Digest, EventKind, Reference, RepositoryName, TagName, media};
use oci_spec::image::{Descriptor, ImageIndex, ImageManifest};
use serde_json::Value;

/// Largest manifest we accept, as the spec suggests.
pub const MAX_MANIFEST_SIZE: usize = 4 * 1024 * 1024;

/// What a pushed manifest says, once parsed and checked for form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedManifest {
    pub media_type: String,
    pub artifact_type: Option<String>,
    pub subject: Option<Digest>,
    pub blobs: Vec<Digest>,
    pub foreign_blobs: Vec<Digest>,
    pub children: Vec<Digest>,
}

/// The outcome of a manifest push.
#[derive(Debug)]
pub struct PushedManifest {
    pub digest: Digest,
    pub subject: Option<Digest>,
    pub tags: Vec<TagName>,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::Invalid(Invalid::Manifest(msg.into()))
}

fn descriptor_digest(d: &Descriptor) -> Result<Digest> {
    Digest::parse(d.digest().as_ref()).map_err(|e| invalid(e.0))
}

/// Parses a manifest body. `content_type` is the request's Content-Type, which must
/// agree with the body's own `mediaType` when both are given.
pub fn parse_manifest(content_type: Option<&str>, body: &[u8]) -> Result<ParsedManifest> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| invalid(format!("not valid JSON: {e}")))?;
    let obj = value
        .as_object()
        .ok_or_else(|| invalid("a manifest is a JSON object"))?;
    if obj.get("schemaVersion").and_then(Value::as_u64) != Some(2) {
        return Err(invalid("schemaVersion must be 2"));
    }
    let declared = obj.get("mediaType").and_then(Value::as_str);
    let header = content_type
        .map(|c| c.split(';').next().unwrap_or("").trim())
        .filter(|c| !c.is_empty() && *c != "application/json" && *c != "application/octet-stream");
    let media_type = match (declared, header) {
        (Some(d), Some(h)) if d != h => {
            return Err(invalid(format!(
                "Content-Type {h} does not match the manifest's mediaType {d}"
            )));
        }
        (Some(d), _) => d.to_owned(),
        (None, Some(h)) => h.to_owned(),
        (None, None) if obj.contains_key("manifests") => media::OCI_INDEX.to_owned(),
        (None, None) => media::OCI_MANIFEST.to_owned(),
    };
    if !media::MANIFEST_TYPES.contains(&media_type.as_str()) {
        return Err(invalid(format!(
            "unsupported manifest media type {media_type}"
        )));
    }

    let mut parsed = ParsedManifest {
        media_type: media_type.clone(),
        artifact_type: None,
        subject: None,
        blobs: vec![],
        foreign_blobs: vec![],
        children: vec![],
    };
    if media::is_index(&media_type) {
        let index: ImageIndex =
            serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
        for m in index.manifests() {
            parsed.children.push(descriptor_digest(m)?);
        }
        parsed.artifact_type = index.artifact_type().as_ref().map(|t| t.to_string());
        parsed.subject = index
            .subject()
            .as_ref()
            .map(descriptor_digest)
            .transpose()?;
    } else {
        let m: ImageManifest = serde_json::from_value(value).map_err(|e| invalid(e.to_string()))?;
        parsed.blobs.push(descriptor_digest(m.config())?);
        for layer in m.layers() {
            let d = descriptor_digest(layer)?;
            if media::is_non_distributable(layer.media_type().as_ref()) {
                parsed.foreign_blobs.push(d);
            } else {
                parsed.blobs.push(d);
            }
        }
        parsed.artifact_type = m
            .artifact_type()
            .as_ref()
            .map(|t| t.to_string())
            .or_else(|| Some(m.config().media_type().to_string()));
        parsed.subject = m.subject().as_ref().map(descriptor_digest).transpose()?;
    }
    Ok(parsed)
}

impl Services {
    /// Stores a manifest under its digest and points the tags (the reference's tag and
    /// any `?tag=`) at it.
    pub async fn put_manifest(
        &self,
        repo: &RepositoryName,
        reference: &Reference,
        extra_tags: Vec<TagName>,
        content_type: Option<&str>,
        body: &[u8],
        actor: &str,
    ) -> Result<PushedManifest> {
        if body.len() > MAX_MANIFEST_SIZE {
            return Err(Error::Invalid(Invalid::Size(format!(
                "a manifest has at most {MAX_MANIFEST_SIZE} bytes"
            ))));
        }
        let parsed = parse_manifest(content_type, body)?;
        let digest = match reference {
            Reference::Digest(d) => {
                let actual = Digest::of(d.algorithm(), body);
                if &actual != d {
                    return Err(Error::Invalid(Invalid::Digest(format!(
                        "the manifest's digest is {actual}, not {d}"
                    ))));
                }
                actual
            }
            Reference::Tag(_) => Digest::sha256_of(body),
        };
        let mut tags = extra_tags;
        if let Reference::Tag(t) = reference {
            tags.insert(0, t.clone());
        }
        let mut seen = std::collections::HashSet::new();
        tags.retain(|t| seen.insert(t.clone()));
        let r = self.repository_for_push(repo).await?;
        let strings = |v: &[Digest]| v.iter().map(Digest::to_string).collect::<Vec<_>>();
        let (blobs, foreign, children) = (
            strings(&parsed.blobs),
            strings(&parsed.foreign_blobs),
            strings(&parsed.children),
        );
        let tag_names: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
        let subject = parsed.subject.as_ref().map(Digest::to_string);
        let frozen = self.frozen_tags(r.account_id, repo, &tag_names).await?;
        let now = now_ms();
        let digest_text = digest.to_string();
        let event = |tag: Option<&str>| {
            let mut facts = EventFacts::new(EventKind::Push, r.account_id, actor);
            facts.repository = Some(repo);
            facts.tag = tag;
            facts.digest = Some(&digest_text);
            facts.media_type = Some(&parsed.media_type);
            facts.size = Some(body.len() as u64);
            facts.event(now)
        };
        let events: Vec<_> = if tag_names.is_empty() {
            vec![event(None)]
        } else {
            tag_names.iter().map(|t| event(Some(t))).collect()
        };
        let stored = self
            .db
            .put_manifest(NewManifest {
                repository_id: r.id,
                digest: &digest.to_string(),
                media_type: &parsed.media_type,
                artifact_type: parsed.artifact_type.as_deref(),
                subject: subject.as_deref(),
                content: body,
                blobs: &blobs,
                foreign_blobs: &foreign,
                children: &children,
                tags: &tag_names,
                frozen: &frozen,
                now,
                events: &events,
            })
            .await?;
        match stored {
            Err(PutManifestRefused::MissingReference(d)) => {
                return Err(Error::Invalid(Invalid::ManifestReference(d)));
            }
            Err(PutManifestRefused::ImmutableTag(t)) => {
                return Err(super::immutability::immutable(repo, &t));
            }
            Ok(_) => self.events_written(),
        }
        let detail = if tag_names.is_empty() {
            digest.to_string()
        } else {
            format!("{} {digest}", tag_names.join(","))
        };
        self.audit(
            Some(r.account_id),
            actor,
            "manifest.push",
            Some(repo.as_str()),
            Some(detail),
        )
        .await;
        Ok(PushedManifest {
            digest,
            subject: parsed.subject,
            tags,
        })
    }

    /// The manifest a tag or digest names.
    pub async fn manifest(&self, repo: &RepositoryName, reference: &Reference) -> Result<Manifest> {
        let m = match reference {
            Reference::Tag(t) => {
                self.db
                    .manifest_by_repository_tag(repo.as_str(), t.as_str())
                    .await?
            }
            Reference::Digest(d) => {
                self.db
                    .manifest_by_repository_digest(repo.as_str(), &d.to_string())
                    .await?
            }
        };
        m.ok_or(Error::NotFound(Thing::Manifest))
    }

    /// Deletes a tag, or a manifest with every tag pointing at it; refused when the
    /// tag, or one pointing at the manifest, is immutable.
    pub async fn delete_manifest(
        &self,
        repo: &RepositoryName,
        reference: &Reference,
        actor: &str,
    ) -> Result<()> {
        let r = self
            .repository(repo)
            .await
            .map_err(|_| Error::NotFound(Thing::Manifest))?;
        let now = now_ms();
        let event = |tag: Option<&str>, m: &Manifest| {
            let mut facts = EventFacts::new(EventKind::Delete, r.account_id, actor);
            facts.repository = Some(repo);
            facts.tag = tag;
            facts.digest = Some(&m.digest);
            facts.media_type = Some(&m.media_type);
            facts.size = Some(m.size.max(0) as u64);
            vec![facts.event(now)]
        };
        let gone = match reference {
            Reference::Tag(t) => {
                // A tag that is not there is unknown, immutable or not.
                let Some(m) = self
                    .db
                    .manifest_by_repository_tag(repo.as_str(), t.as_str())
                    .await?
                else {
                    return Err(Error::NotFound(Thing::Manifest));
                };
                self.refuse_frozen(r.account_id, repo, &[t.to_string()])
                    .await?;
                self.remove_tag(&r, t, actor, &event(Some(t.as_str()), &m))
                    .await?
            }
            Reference::Digest(d) => {
                let frozen = self.immutability_patterns(r.account_id, repo).await?;
                let Some(m) = self
                    .db
                    .manifest_by_repository_digest(repo.as_str(), &d.to_string())
                    .await?
                else {
                    return Err(Error::NotFound(Thing::Manifest));
                };
                self.db
                    .delete_manifest(r.id, &d.to_string(), &frozen, &event(None, &m), now)
                    .await?
                    .map_err(|t| super::immutability::immutable(repo, &t.0))?
            }
        };
        if gone {
            self.events_written();
        }
        if !gone {
            return Err(Error::NotFound(Thing::Manifest));
        }
        let action = if matches!(reference, Reference::Tag(_)) {
            "tag.delete"
        } else {
            "manifest.delete"
        };
        self.audit(
            Some(r.account_id),
            actor,
            action,
            Some(repo.as_str()),
            Some(reference.to_string()),
        )
        .await;
        Ok(())
    }

    /// Tags in lexical order after `last`, at most `n`.
    pub async fn tags(
        &self,
        repo: &RepositoryName,
        last: Option<&str>,
        n: u64,
    ) -> Result<Vec<String>> {
        let r = self.repository(repo).await?;
        Ok(self.db.tag_names(r.id, last, n).await?)
    }

    /// Descriptors of the manifests whose subject is `digest`, optionally only those of
    /// one artifact type. A repository that does not exist has no referrers.
    pub async fn referrers(
        &self,
        repo: &RepositoryName,
        digest: &Digest,
        artifact_type: Option<&str>,
    ) -> Result<Vec<Value>> {
        let Some(r) = self.db.repository_by_name(repo.as_str()).await? else {
            return Ok(vec![]);
        };
        let rows = self.db.referrers(r.id, &digest.to_string()).await?;
        Ok(rows
            .into_iter()
            .filter(|m| artifact_type.is_none() || m.artifact_type.as_deref() == artifact_type)
            .map(|m| {
                let annotations = serde_json::from_slice::<Value>(&m.content)
                    .ok()
                    .and_then(|v| v.get("annotations").cloned())
                    .filter(|a| a.is_object());
                let mut d = serde_json::json!({
                    "mediaType": m.media_type,
                    "digest": m.digest,
                    "size": m.size,
                });
                if let Some(t) = m.artifact_type {
                    d["artifactType"] = Value::String(t);
                }
                if let Some(a) = annotations {
                    d["annotations"] = a;
                }
                d
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// Any bytes, or JSON shaped like a manifest with wrong parts: a spec error,
        /// never a panic.
        #[test]
        fn any_body_is_a_manifest_or_an_error(
            body in proptest::prelude::any::<Vec<u8>>(),
            media in "(application/vnd\\.oci\\.image\\.(manifest|index)\\.v1\\+json|[a-z/+.]{0,30})",
            schema in 0i64..4,
            layers in proptest::collection::vec(("[a-z0-9:]{0,72}", proptest::prelude::any::<i64>()), 0..4),
        ) {
            let _ = parse_manifest(Some(&media), &body);
            let shaped = serde_json::json!({
                "schemaVersion": schema,
                "mediaType": media,
                "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": layers.first().map(|l| l.0.clone()), "size": -1},
                "layers": layers.iter().map(|(d, size)| serde_json::json!({"mediaType": "x", "digest": d, "size": size})).collect::<Vec<_>>(),
                "manifests": layers.iter().map(|(d, _)| serde_json::json!({"digest": d})).collect::<Vec<_>>(),
                "subject": {"digest": layers.last().map(|l| l.0.clone())},
            });
            let _ = parse_manifest(None, shaped.to_string().as_bytes());
            let _ = parse_manifest(Some(&media), shaped.to_string().as_bytes());
        }
    }

    fn digest(c: char) -> String {
        format!("sha256:{}", c.to_string().repeat(64))
    }

    #[test]
    fn parses_an_image_manifest_with_its_references() {
        let body = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": media::OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": digest('a'), "size": 2},
            "layers": [
                {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest('b'), "size": 3},
                {"mediaType": "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "digest": digest('c'), "size": 4}
            ],
            "subject": {"mediaType": media::OCI_MANIFEST, "digest": digest('d'), "size": 5}
        });
        let p = parse_manifest(Some(media::OCI_MANIFEST), body.to_string().as_bytes()).unwrap();
        assert_eq!(
            p.blobs,
            vec![
                Digest::parse(&digest('a')).unwrap(),
                Digest::parse(&digest('b')).unwrap()
            ]
        );
        assert_eq!(p.foreign_blobs, vec![Digest::parse(&digest('c')).unwrap()]);
        assert_eq!(p.subject, Some(Digest::parse(&digest('d')).unwrap()));
        assert_eq!(
            p.artifact_type.as_deref(),
            Some("application/vnd.oci.image.config.v1+json")
        );
    }

    #[test]
    fn parses_an_index_and_its_children() {
        let body = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": media::DOCKER_MANIFEST_LIST,
            "manifests": [{"mediaType": media::DOCKER_MANIFEST, "digest": digest('e'), "size": 9,
                           "platform": {"os": "linux", "architecture": "amd64"}}]
        });
        let p = parse_manifest(None, body.to_string().as_bytes()).unwrap();
        assert_eq!(p.media_type, media::DOCKER_MANIFEST_LIST);
        assert_eq!(p.children, vec![Digest::parse(&digest('e')).unwrap()]);
        assert!(p.blobs.is_empty());
    }

    #[test]
    fn refuses_malformed_manifests() {
        let cases: Vec<(Option<&str>, String)> = vec![
            (None, "not json".into()),
            (None, "[]".into()),
            (None, r#"{"schemaVersion": 1}"#.into()),
            (Some(media::OCI_INDEX), serde_json::json!({"schemaVersion": 2, "mediaType": media::OCI_MANIFEST}).to_string()),
            (None, serde_json::json!({"schemaVersion": 2, "mediaType": "application/x-unknown"}).to_string()),
            (None, serde_json::json!({"schemaVersion": 2, "mediaType": media::OCI_MANIFEST, "layers": []}).to_string()),
        ];
        for (ct, body) in cases {
            assert!(
                matches!(
                    parse_manifest(ct, body.as_bytes()),
                    Err(Error::Invalid(Invalid::Manifest(_)))
                ),
                "{body}"
            );
        }
    }
}
