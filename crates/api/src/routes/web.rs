//! The web UI: plain HTML, CSS and JavaScript modules from `web/`, compiled into the binary, so
//! running Ordo needs no Node and no files beside the binary. Every page path serves the same
//! document; its entry module (`web/app.js`) renders the page the path names.
//!
//! The files are served under `/assets/` by their path in `web/`, from [`ASSETS`] only: anything
//! else there is a 404, whatever the path holds (`..` included), since nothing is read from disk.

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, X_CONTENT_TYPE_OPTIONS};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::error::ApiError;

const INDEX_HTML: &str = include_str!("../../../../web/index.html");

/// `(path under web/, contents)` for each file of `web/`, one line each.
macro_rules! assets {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../../../web/", $path)))),*]
    };
}

/// Every file the UI loads, by its path in `web/` (and under `/assets/`). A test fails when a file
/// of `web/`, or a module some served module imports, is missing here.
const ASSETS: &[(&str, &str)] = assets![
    "app.css",
    "app.js",
    "shared/dom.js",
    "shared/http.js",
    "shared/live.js",
    "shared/session.js",
    "provision/decide.js",
    "provision/inbox.js",
    "provision/index.js",
    "provision/run.js",
    "provision/runs.js",
    "provision/scenarios.js",
    "application/applications.js",
    "application/authorize.js",
    "application/inbox.js",
    "application/index.js",
    "application/request.js",
    "application/view.js",
    "release/board.js",
    "release/index.js",
    "hooks/index.js",
    "hooks/page.js",
    "orders/index.js",
    "orders/order.js",
    "orders/stats.js",
];

/// The paths the UI has pages for (the routes of `web/app.js` and of its domains): each serves
/// `index.html`, whose script picks the page. Listed, not a catch-all, so other paths stay 404s.
const PAGES: &[&str] = &[
    "/",
    "/signin",
    "/inbox",
    "/runs/{id}",
    "/applications",
    "/applications/{id}",
    "/releases",
    "/releases/{key}",
    "/hooks",
    "/hooks/{project}/{app}/{version}/{dig}",
    "/orders",
    "/orders/stats",
    "/orders/{id}",
];

/// Scripts and styles only from this server; no inline code, no framing.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/// Generic over the state because nothing here reads it, so tests can serve the UI alone.
pub(crate) fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    PAGES.iter().fold(Router::new(), |router, path| router.route(path, get(page))).route("/assets/{*path}", get(asset))
}

async fn page() -> impl IntoResponse {
    (
        [
            (CONTENT_TYPE, "text/html; charset=utf-8"),
            (CONTENT_SECURITY_POLICY, CSP),
            (X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (CACHE_CONTROL, "no-cache"),
        ],
        INDEX_HTML,
    )
}

async fn asset(Path(path): Path<String>) -> Response {
    let Some((content_type, body)) = find_asset(&path) else {
        return ApiError::NotFound(format!("no such file of the web UI: {path}")).into_response();
    };
    ([(CONTENT_TYPE, content_type), (X_CONTENT_TYPE_OPTIONS, "nosniff"), (CACHE_CONTROL, "no-cache")], body)
        .into_response()
}

/// The content type and contents of the served file at `path` (relative to `web/`).
fn find_asset(path: &str) -> Option<(&'static str, &'static str)> {
    let &(_, body) = ASSETS.iter().find(|(name, _)| *name == path)?;
    // Module scripts must come as JavaScript: browsers refuse any other type (and nosniff too).
    let content_type = match path.rsplit_once('.')?.1 {
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "html" => "text/html; charset=utf-8",
        _ => return None,
    };
    Some((content_type, body))
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use axum::body::Body;
    use axum::http::{header, Request, StatusCode};
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;

    use super::*;

    fn web_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web")
    }

    /// Every file under `dir`, as a path relative to `web/` with `/` separators.
    fn files_under(dir: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files_under(&path, found);
            } else {
                let relative = path.strip_prefix(web_dir()).unwrap();
                found.push(relative.to_str().unwrap().replace(std::path::MAIN_SEPARATOR, "/"));
            }
        }
    }

    /// The specifiers a module imports: `… from "x"` (imports and re-exports), `import "x"` and
    /// `import("x")`. Read line by line: the UI's modules end every static import on the line
    /// that holds its `from`, and nothing else in them starts a line with `import`/`export`.
    fn imports(source: &str) -> Vec<&str> {
        let mut found = Vec::new();
        for line in source.lines().map(str::trim) {
            if let Some(rest) = line.strip_prefix("import ").and_then(quoted) {
                found.push(rest);
            } else if line.starts_with("import ") || line.starts_with("export ") || line.starts_with('}') {
                found.extend(line.rsplit_once(" from ").and_then(|(_, rest)| quoted(rest)));
            }
            found.extend(line.split("import(").skip(1).filter_map(quoted));
        }
        found
    }

    /// The string literal `text` starts with, without its quotes.
    fn quoted(text: &str) -> Option<&str> {
        let quote = text.chars().next().filter(|c| matches!(c, '"' | '\''))?;
        text[1..].split_once(quote).map(|(inside, _)| inside)
    }

    /// Resolves a relative specifier from the module at `from` (both relative to `web/`); `None`
    /// for bare specifiers (there is no import map) and for paths that leave `web/`.
    fn resolve(from: &str, specifier: &str) -> Option<String> {
        let specifier = match specifier.strip_prefix("/assets/") {
            Some(absolute) => return Some(absolute.to_owned()),
            None if specifier.starts_with("./") || specifier.starts_with("../") => specifier,
            None => return None,
        };
        let mut parts: Vec<&str> = from.split('/').collect();
        parts.pop(); // the importing file's own name
        for part in specifier.split('/') {
            match part {
                "." => {}
                ".." => {
                    parts.pop()?;
                }
                name => parts.push(name),
            }
        }
        Some(parts.join("/"))
    }

    #[test]
    fn imports_reads_static_dynamic_and_multi_line_imports() {
        let source = "import { a } from './a.js';\nimport {\n  b,\n} from \"../b.js\";\nimport './c.js';\n\
                      export { d } from './d.js';\nconst e = [\n  import('./e.js'),\n];\n// text from 'f'\n";
        assert_eq!(imports(source), ["./a.js", "../b.js", "./c.js", "./d.js", "./e.js"]);
    }

    #[test]
    fn resolve_follows_relative_paths_and_refuses_to_leave_web() {
        assert_eq!(resolve("provision/run.js", "../shared/dom.js").as_deref(), Some("shared/dom.js"));
        assert_eq!(resolve("app.js", "./provision/index.js").as_deref(), Some("provision/index.js"));
        assert_eq!(resolve("app.js", "../Cargo.toml"), None);
        assert_eq!(resolve("app.js", "lit"), None);
    }

    /// A file added to `web/` but not to `ASSETS` would be a 404 in the browser.
    #[test]
    fn every_file_under_web_is_served() {
        let mut files = Vec::new();
        files_under(&web_dir(), &mut files);
        for file in files.iter().filter(|file| *file != "index.html") {
            assert!(find_asset(file).is_some(), "web/{file} is not in ASSETS (crates/api/src/routes/web.rs)");
        }
    }

    /// A module that imports a file not served would fail to load, and with it the whole UI.
    #[test]
    fn every_import_of_every_served_module_resolves_to_a_served_file() {
        let mut checked = 0;
        for (path, source) in ASSETS.iter().filter(|(path, _)| path.ends_with(".js")) {
            for specifier in imports(source) {
                let target = resolve(path, specifier)
                    .unwrap_or_else(|| panic!("web/{path} imports {specifier:?}: not a path inside web/"));
                assert!(
                    find_asset(&target).is_some_and(|(kind, _)| kind.starts_with("text/javascript")),
                    "web/{path} imports {specifier:?}, and web/{target} is not served as a module"
                );
                checked += 1;
            }
        }
        assert!(checked > ASSETS.len(), "the modules' imports were read ({checked})");
    }

    /// index.html loads its script and styles from files that are served.
    #[test]
    fn every_asset_index_html_links_is_served() {
        let linked: Vec<&str> = INDEX_HTML
            .split("\"/assets/")
            .skip(1)
            .filter_map(|rest| rest.split_once('"'))
            .map(|(path, _)| path)
            .collect();
        assert_eq!(linked, ["app.css", "app.js"]);
        assert!(INDEX_HTML.contains("<script type=\"module\" src=\"/assets/app.js\">"), "app.js is loaded as a module");
        for path in linked {
            assert!(find_asset(path).is_some(), "index.html links /assets/{path}, which is not served");
        }
    }

    async fn fetch(path: &str) -> (StatusCode, Option<String>, String) {
        let response = router::<()>().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
        let kind = response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned());
        let status = response.status();
        let body = response.into_body().collect().await.unwrap().to_bytes();
        (status, kind, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn each_file_is_served_with_its_content_type() {
        for (path, kind) in [
            ("/assets/app.js", "text/javascript"),
            ("/assets/shared/live.js", "text/javascript"),
            ("/assets/application/index.js", "text/javascript"),
            ("/assets/app.css", "text/css"),
            ("/", "text/html"),
            ("/runs/provision-infra-x", "text/html"),
        ] {
            let (status, content_type, body) = fetch(path).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert!(content_type.as_deref().is_some_and(|c| c.starts_with(kind)), "{path}: {content_type:?}");
            assert!(!body.is_empty(), "{path}");
        }
    }

    #[tokio::test]
    async fn unknown_assets_and_path_traversals_are_not_found() {
        for path in [
            "/assets/nope.js",
            "/assets/",
            "/assets/index.html",
            "/assets/shared",
            "/assets/../Cargo.toml",
            "/assets/..%2F..%2FCargo.toml",
            "/assets/shared/../../Cargo.toml",
            "/assets/%2e%2e/%2e%2e/Cargo.toml",
            "/web/../Cargo.toml",
            "/web/app.js",
            "/app.js",
        ] {
            let (status, _, body) = fetch(path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert!(!body.contains("[workspace]") && !body.contains("[package]"), "{path} served a file: {body}");
        }
    }
}
