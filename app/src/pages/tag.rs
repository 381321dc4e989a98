//! One manifest, opened by tag (`/t/acme/app:1.0`) or digest (`/t/acme/app@sha256:…`):
//! its media type, digest and size, layers, image config, an index's platforms, its
//! referrers, and pull URIs by tag and by digest.

use crate::api::repositories::get_manifest;
use crate::components::copy_button::CopyButton;
use crate::components::digest::Digest;
use crate::components::server_error::ServerError;
use crate::components::title::param_title;
use crate::model::{Descriptor, ImageConfig, ManifestDetail, human_size};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

#[component]
pub fn TagPage() -> impl IntoView {
    let params = use_params_map();
    let reference = move || params.read().get("reference").unwrap_or_default();
    let detail = Resource::new(reference, get_manifest);
    view! {
        <Title text=param_title("reference", |v| format!("{v} — Berth"))/>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Err(e) => view! {
                        <h1>{reference()}</h1>
                        <ServerError error=e/>
                    }.into_any(),
                    Ok(d) => view! { <ManifestView d=d/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ManifestView(d: ManifestDetail) -> impl IntoView {
    let heading = match &d.tag {
        Some(t) => format!("{}:{t}", d.repository),
        None => format!("{}@{}", d.repository, d.summary.digest),
    };
    let by_tag = d.pull_by_tag.clone().map(|uri| {
        let cmd = format!("docker pull {uri}");
        view! {
            <div class="command">
                <pre><code data-testid="pull-by-tag">{cmd.clone()}</code></pre>
                <CopyButton text=cmd label="Copy pull command by tag"/>
            </div>
        }
    });
    let by_digest = format!("docker pull {}", d.pull_by_digest);
    let repo = d.repository.clone();
    view! {
        <div class="page-head">
            <div>
                <p class="muted"><a href=format!("/r/{}", d.repository)>{d.repository.clone()}</a></p>
                <h1 class="repo-name">{heading}</h1>
            </div>
        </div>
        <section aria-labelledby="pull-heading">
            <h2 id="pull-heading">"Pull"</h2>
            {by_tag}
            <div class="command">
                <pre><code data-testid="pull-by-digest">{by_digest.clone()}</code></pre>
                <CopyButton text=by_digest label="Copy pull command by digest"/>
            </div>
        </section>
        <section aria-labelledby="manifest-heading">
            <h2 id="manifest-heading">"Manifest"</h2>
            <dl class="facts">
                <dt>"Digest"</dt><dd><Digest digest=d.summary.digest.clone()/></dd>
                <dt>"Media type"</dt><dd><code>{d.media_type.clone()}</code></dd>
                <dt>"Kind"</dt><dd>{d.summary.kind.clone()}</dd>
                {d.summary.artifact_type.clone().map(|a| view! { <dt>"Artifact type"</dt><dd><code>{a}</code></dd> })}
                <dt>"Manifest size"</dt><dd>{human_size(d.manifest_size)}</dd>
                {d.summary.size.map(|s| view! { <dt>"Total size"</dt><dd>{human_size(s)}</dd> })}
                {(!d.tags.is_empty()).then(|| view! { <dt>"Tags"</dt><dd>{d.tags.join(", ")}</dd> })}
            </dl>
        </section>
        {(!d.manifests.is_empty()).then(|| view! {
            <section aria-labelledby="platforms-heading">
                <h2 id="platforms-heading">"Platforms"</h2>
                <table class="table">
                    <thead><tr>
                        <th scope="col">"Platform"</th>
                        <th scope="col">"Digest"</th>
                        <th scope="col">"Manifest size"</th>
                    </tr></thead>
                    <tbody>
                        {d.manifests.iter().map(|m| view! {
                            <tr>
                                <td><a href=format!("/t/{repo}@{}", m.digest)>{m.platform.clone().unwrap_or_else(|| "unknown".into())}</a></td>
                                <td><Digest digest=m.digest.clone()/></td>
                                <td>{human_size(m.size)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        }.into_any())}
        {(!d.layers.is_empty() || d.config.is_some()).then(|| view! {
            <section aria-labelledby="layers-heading">
                <h2 id="layers-heading">"Config and layers"</h2>
                <BlobTable config=d.config.clone() layers=d.layers.clone()/>
            </section>
        }.into_any())}
        {d.image.clone().map(|c| view! { <ConfigView c=c/> }.into_any())}
        {(!d.referrers.is_empty()).then(|| view! {
            <section aria-labelledby="referrers-heading">
                <h2 id="referrers-heading">"Referrers"</h2>
                <table class="table">
                    <thead><tr><th scope="col">"Digest"</th><th scope="col">"Artifact type"</th><th scope="col">"Size"</th></tr></thead>
                    <tbody>
                        {d.referrers.iter().map(|r| view! {
                            <tr>
                                <td><a href=format!("/t/{}@{}", d.repository, r.digest)><code title=r.digest.clone()>{r.digest.chars().take(19).collect::<String>()}</code></a></td>
                                <td>{r.artifact_type.clone().unwrap_or_else(|| "—".into())}</td>
                                <td>{r.size.map(human_size).unwrap_or_else(|| "—".into())}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </section>
        }.into_any())}
    }
    .into_any()
}

#[component]
fn BlobTable(config: Option<Descriptor>, layers: Vec<Descriptor>) -> impl IntoView {
    let rows = config.map(|c| ("config".to_owned(), c)).into_iter().chain(
        layers
            .into_iter()
            .enumerate()
            .map(|(i, l)| (format!("layer {}", i + 1), l)),
    );
    view! {
        <table class="table">
            <thead><tr>
                <th scope="col">"Blob"</th>
                <th scope="col">"Digest"</th>
                <th scope="col">"Media type"</th>
                <th scope="col">"Size"</th>
            </tr></thead>
            <tbody>
                {rows.map(|(what, d)| view! {
                    <tr>
                        <td>{what}</td>
                        <td><Digest digest=d.digest.clone()/></td>
                        <td><code class="media-type">{d.media_type.clone()}</code></td>
                        <td>{human_size(d.size)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn ConfigView(c: ImageConfig) -> impl IntoView {
    let list = |v: &[String]| {
        if v.is_empty() {
            "—".to_owned()
        } else {
            v.join(" ")
        }
    };
    view! {
        <section aria-labelledby="config-heading">
            <h2 id="config-heading">"Image configuration"</h2>
            <dl class="facts">
                {c.created.clone().map(|t| view! { <dt>"Created"</dt><dd><time datetime=t.clone()>{t.clone()}</time></dd> })}
                {c.platform.clone().map(|p| view! { <dt>"Platform"</dt><dd>{p}</dd> })}
                <dt>"Entrypoint"</dt><dd><code>{list(&c.entrypoint)}</code></dd>
                <dt>"Cmd"</dt><dd><code>{list(&c.cmd)}</code></dd>
                {c.working_dir.clone().map(|w| view! { <dt>"Working directory"</dt><dd><code>{w}</code></dd> })}
                {c.user.clone().map(|u| view! { <dt>"User"</dt><dd><code>{u}</code></dd> })}
                <dt>"Exposed ports"</dt><dd>{list(&c.exposed_ports)}</dd>
            </dl>
            {(!c.env.is_empty()).then(|| view! {
                <h3>"Environment"</h3>
                <ul class="plain mono">{c.env.iter().map(|e| view! { <li>{e.clone()}</li> }).collect_view()}</ul>
            })}
            {(!c.labels.is_empty()).then(|| view! {
                <h3>"Labels"</h3>
                <dl class="facts">
                    {c.labels.iter().map(|(k, v)| view! { <dt><code>{k.clone()}</code></dt><dd>{v.clone()}</dd> }).collect_view()}
                </dl>
            })}
            {(!c.history.is_empty()).then(|| view! {
                <h3>"History"</h3>
                <ol class="history">
                    {c.history.iter().map(|h| view! {
                        <li class:empty-layer=h.empty_layer>
                            <code>{h.created_by.clone()}</code>
                            {h.created.clone().map(|t| view! { <span class="muted">" — "{t}</span> })}
                        </li>
                    }).collect_view()}
                </ol>
            })}
        </section>
    }
}
