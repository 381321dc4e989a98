//! What the portal shows of a manifest, read from its JSON (and its image config's).
//! Pure functions over bytes the server already holds, so they are tested here.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A manifest in a list: a tag's target, an untagged image or a referrer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestSummary {
    pub digest: String,
    /// "image", "index" or "artifact".
    pub kind: String,
    pub artifact_type: Option<String>,
    /// Config plus layers of an image or artifact; `None` for an index.
    pub size: Option<u64>,
    /// `os/arch[/variant]` of each platform of an index.
    pub platforms: Vec<String>,
    /// The digest a referrer refers to.
    pub subject: Option<String>,
}

impl ManifestSummary {
    pub fn of(digest: &str, media_type: &str, content: &[u8]) -> Self {
        let v: Value = serde_json::from_slice(content).unwrap_or_default();
        let index = is_index(media_type);
        let config_type = v["config"]["mediaType"].as_str().unwrap_or_default();
        let image_config = config_type == "application/vnd.oci.image.config.v1+json"
            || config_type == "application/vnd.docker.container.image.v1+json";
        let artifact_type = v["artifactType"].as_str().map(str::to_owned).or_else(|| {
            (!index && !image_config && !config_type.is_empty()).then(|| config_type.to_owned())
        });
        let kind = if index {
            "index"
        } else if image_config && v.get("artifactType").is_none() {
            "image"
        } else {
            "artifact"
        };
        let size = (!index).then(|| {
            descriptors(&v["layers"]).map(|d| d.size).sum::<u64>()
                + v["config"]["size"].as_u64().unwrap_or(0)
        });
        let platforms = descriptors(&v["manifests"])
            .filter_map(|d| d.platform)
            .collect();
        Self {
            digest: digest.to_owned(),
            kind: kind.to_owned(),
            artifact_type,
            size,
            platforms,
            subject: v["subject"]["digest"].as_str().map(str::to_owned),
        }
    }
}

/// One blob or child manifest a manifest points at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    /// `os/arch[/variant]`, for an index's manifests.
    pub platform: Option<String>,
}

/// The image configuration, as far as people care.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageConfig {
    pub created: Option<String>,
    pub platform: Option<String>,
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub labels: Vec<(String, String)>,
    pub exposed_ports: Vec<String>,
    pub working_dir: Option<String>,
    pub user: Option<String>,
    pub history: Vec<HistoryStep>,
}

/// One step that built the image.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryStep {
    pub created: Option<String>,
    pub created_by: String,
    pub empty_layer: bool,
}

/// The Tag page's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestDetail {
    pub repository: String,
    /// The tag, if the page was opened by tag.
    pub tag: Option<String>,
    pub summary: ManifestSummary,
    pub media_type: String,
    /// Bytes of the manifest itself.
    pub manifest_size: u64,
    pub config: Option<Descriptor>,
    pub layers: Vec<Descriptor>,
    /// The platform manifests of an index.
    pub manifests: Vec<Descriptor>,
    pub image: Option<ImageConfig>,
    /// Other tags pointing at the same manifest.
    pub tags: Vec<String>,
    pub referrers: Vec<ManifestSummary>,
    pub pull_by_tag: Option<String>,
    pub pull_by_digest: String,
}

impl ManifestDetail {
    /// Reads a manifest (and its image config, when the server could load it).
    pub fn of(
        repository: &str,
        tag: Option<&str>,
        digest: &str,
        media_type: &str,
        content: &[u8],
        config: Option<&[u8]>,
        host: &str,
    ) -> Self {
        let v: Value = serde_json::from_slice(content).unwrap_or_default();
        Self {
            repository: repository.to_owned(),
            tag: tag.map(str::to_owned),
            summary: ManifestSummary::of(digest, media_type, content),
            media_type: media_type.to_owned(),
            manifest_size: content.len() as u64,
            config: descriptors(std::slice::from_ref(&v["config"])).next(),
            layers: descriptors(&v["layers"]).collect(),
            manifests: descriptors(&v["manifests"]).collect(),
            image: config.and_then(image_config),
            tags: vec![],
            referrers: vec![],
            pull_by_tag: tag.map(|t| format!("{host}/{repository}:{t}")),
            pull_by_digest: format!("{host}/{repository}@{digest}"),
        }
    }
}

/// Whether a media type is an index (OCI image index or Docker manifest list).
pub fn is_index(media_type: &str) -> bool {
    media_type == "application/vnd.oci.image.index.v1+json"
        || media_type == "application/vnd.docker.distribution.manifest.list.v2+json"
}

fn descriptors<'a, T: AsDescriptors + ?Sized>(v: &'a T) -> impl Iterator<Item = Descriptor> + 'a {
    v.items().filter_map(|d| {
        let platform = d.get("platform").map(|p| {
            let mut s = format!(
                "{}/{}",
                p["os"].as_str().unwrap_or("?"),
                p["architecture"].as_str().unwrap_or("?")
            );
            if let Some(variant) = p["variant"].as_str() {
                s.push('/');
                s.push_str(variant);
            }
            s
        });
        Some(Descriptor {
            media_type: d["mediaType"].as_str().unwrap_or_default().to_owned(),
            digest: d["digest"].as_str()?.to_owned(),
            size: d["size"].as_u64().unwrap_or(0),
            platform,
        })
    })
}

/// A JSON array, or a slice of values, walked the same way.
trait AsDescriptors {
    fn items(&self) -> Box<dyn Iterator<Item = &Value> + '_>;
}

impl AsDescriptors for Value {
    fn items(&self) -> Box<dyn Iterator<Item = &Value> + '_> {
        Box::new(self.as_array().into_iter().flatten())
    }
}

impl AsDescriptors for [Value] {
    fn items(&self) -> Box<dyn Iterator<Item = &Value> + '_> {
        Box::new(self.iter().filter(|v| v.is_object()))
    }
}

fn image_config(bytes: &[u8]) -> Option<ImageConfig> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let c = &v["config"];
    let strings = |x: &Value| -> Vec<String> {
        x.as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s.as_str().map(str::to_owned))
            .collect()
    };
    let keys = |x: &Value| -> Vec<String> {
        let mut k: Vec<String> = x
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.clone())
            .collect();
        k.sort();
        k
    };
    let text = |x: &Value| x.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    let mut labels: Vec<(String, String)> = c["Labels"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_owned()))
        .collect();
    labels.sort();
    Some(ImageConfig {
        created: text(&v["created"]),
        platform: v["os"]
            .as_str()
            .map(|os| format!("{os}/{}", v["architecture"].as_str().unwrap_or("?"))),
        entrypoint: strings(&c["Entrypoint"]),
        cmd: strings(&c["Cmd"]),
        env: strings(&c["Env"]),
        labels,
        exposed_ports: keys(&c["ExposedPorts"]),
        working_dir: text(&c["WorkingDir"]),
        user: text(&c["User"]),
        history: v["history"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|h| HistoryStep {
                created: text(&h["created"]),
                created_by: h["created_by"].as_str().unwrap_or_default().to_owned(),
                empty_layer: h["empty_layer"].as_bool().unwrap_or(false),
            })
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const IMAGE: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
        "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:c","size":100},
        "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:l1","size":1000},
                  {"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:l2","size":24}]}"#;

    #[test]
    fn an_image_counts_its_config_and_layers() {
        let s = ManifestSummary::of(
            "sha256:m",
            "application/vnd.oci.image.manifest.v1+json",
            IMAGE.as_bytes(),
        );
        assert_eq!(s.kind, "image");
        assert_eq!(s.size, Some(1124));
        assert_eq!(s.artifact_type, None);
        let d = ManifestDetail::of(
            "acme/app",
            Some("1.0"),
            "sha256:m",
            "application/vnd.oci.image.manifest.v1+json",
            IMAGE.as_bytes(),
            None,
            "reg.example:5000",
        );
        assert_eq!(d.layers.len(), 2);
        assert_eq!(d.layers[1].digest, "sha256:l2");
        assert_eq!(d.config.as_ref().map(|c| c.size), Some(100));
        assert_eq!(
            d.pull_by_tag.as_deref(),
            Some("reg.example:5000/acme/app:1.0")
        );
        assert_eq!(d.pull_by_digest, "reg.example:5000/acme/app@sha256:m");
    }

    #[test]
    fn an_index_lists_its_platforms() {
        let index = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:a","size":500,"platform":{"os":"linux","architecture":"amd64"}},
            {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:b","size":501,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}}]}"#;
        let s = ManifestSummary::of(
            "sha256:i",
            "application/vnd.oci.image.index.v1+json",
            index.as_bytes(),
        );
        assert_eq!(s.kind, "index");
        assert_eq!(s.size, None);
        assert_eq!(s.platforms, vec!["linux/amd64", "linux/arm64/v8"]);
    }

    #[test]
    fn a_signature_is_an_artifact_with_a_subject() {
        let sig = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
            "artifactType":"application/vnd.dev.cosign.simplesigning.v1+json",
            "config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:e","size":2},
            "layers":[],"subject":{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:m","size":9}}"#;
        let s = ManifestSummary::of(
            "sha256:s",
            "application/vnd.oci.image.manifest.v1+json",
            sig.as_bytes(),
        );
        assert_eq!(s.kind, "artifact");
        assert_eq!(
            s.artifact_type.as_deref(),
            Some("application/vnd.dev.cosign.simplesigning.v1+json")
        );
        assert_eq!(s.subject.as_deref(), Some("sha256:m"));
    }

    #[test]
    fn the_config_gives_what_people_look_for() {
        let config = r#"{"created":"2026-11-25T10:00:00Z","os":"linux","architecture":"amd64",
            "config":{"Entrypoint":["/bin/app"],"Cmd":["--serve"],"Env":["PATH=/bin"],
            "Labels":{"org.opencontainers.image.source":"https://example.com"},"ExposedPorts":{"8080/tcp":{}}},
            "history":[{"created":"2026-11-25T09:00:00Z","created_by":"ADD file","empty_layer":false},
                       {"created_by":"CMD [\"--serve\"]","empty_layer":true}]}"#;
        let c = image_config(config.as_bytes()).unwrap();
        assert_eq!(c.entrypoint, vec!["/bin/app"]);
        assert_eq!(c.cmd, vec!["--serve"]);
        assert_eq!(c.exposed_ports, vec!["8080/tcp"]);
        assert_eq!(c.platform.as_deref(), Some("linux/amd64"));
        assert_eq!(c.labels[0].0, "org.opencontainers.image.source");
        assert_eq!(c.history.len(), 2);
        assert!(c.history[1].empty_layer);
    }
}
