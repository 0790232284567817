//! Request URLs: the base URL parsed once, each operation's path appended to it.
//!
//! progenitor writes `format!("{}/v1/webhooks/{}", client.baseurl, ..)` and hands the text to
//! reqwest, which parses the whole URL, scheme and host included, on every call (about 5% of
//! the instructions of a `get` against a local server; BENCHMARKS.md). `cargo xtask generate`
//! rewrites that statement into a call of [`join`] (see `xtask/src/base_url.rs`), which parses
//! only the path. The URL is the one parsing the text would give: [`join`] falls back to that
//! for any base URL or path it cannot prove it reproduces, and a test compares the two on many
//! bases and paths.

use std::fmt::{self, Write as _};
use std::sync::OnceLock;

use reqwest::Url;

/// The base URL of one client, parsed on its first request.
#[derive(Default)]
pub(crate) struct BaseUrlCache(OnceLock<Option<Base>>);

// A copy starts empty: the copy may be given to a client with another base URL.
impl Clone for BaseUrlCache {
    fn clone(&self) -> BaseUrlCache {
        BaseUrlCache::default()
    }
}

struct Base {
    /// The base URL as the client was given it; the cache serves that text only.
    text: String,
    parsed: Url,
    /// What the path of `text` contributes before an operation's path ("" when the base has
    /// no path: the parser reads it as "/", which the operation's own "/" replaces).
    path_prefix: String,
}

impl Base {
    /// `None` when appending a path to `text` could mean more than a path (a query or
    /// fragment in the base) or the parser rewrites `text` (case, default port, escapes):
    /// those bases take the slow way.
    fn of(text: &str) -> Option<Base> {
        let parsed = Url::parse(text).ok()?;
        if !parsed.has_host()
            || parsed.cannot_be_a_base()
            || parsed.query().is_some()
            || parsed.fragment().is_some()
        {
            return None;
        }
        let path_prefix = if parsed.as_str() == text {
            parsed.path().to_owned()
        } else if parsed.path() == "/" && parsed.as_str().strip_suffix('/') == Some(text) {
            String::new()
        } else {
            return None;
        };
        Some(Base {
            text: text.to_owned(),
            parsed,
            path_prefix,
        })
    }
}

/// The client's base URL followed by `path` (an operation's path, its parameters already
/// escaped), as the URL parser reads that text; `Err` with the reason when it is not a URL.
pub(crate) fn join(client: &crate::Client, path: fmt::Arguments<'_>) -> Result<Url, String> {
    join_to(&client.baseurl, &client.inner.base_url, path)
}

fn join_to(base: &str, cache: &BaseUrlCache, path: fmt::Arguments<'_>) -> Result<Url, String> {
    match cache.0.get_or_init(|| Base::of(base)) {
        Some(cached) if cached.text == base => match cached.appended(path)? {
            Some(url) => Ok(url),
            None => parse(&format!("{base}{path}")),
        },
        _ => parse(&format!("{base}{path}")),
    }
}

impl Base {
    /// The base with `path` appended, or `None` where that would not be what parsing the
    /// whole text gives.
    fn appended(&self, path: fmt::Arguments<'_>) -> Result<Option<Url>, String> {
        let mut full = String::with_capacity(self.path_prefix.len() + 64);
        full.push_str(&self.path_prefix);
        // A parameter whose text cannot be written would leave a cut path, naming another
        // endpoint.
        full.write_fmt(path)
            .map_err(|_| "a path parameter could not be written as text".to_owned())?;
        // Where parsing the whole text reads more than a path, it is parsed whole: a path
        // holding `?` or `#` starts a query or fragment, one not starting with `/` runs on into
        // the host, and trailing spaces and control characters are trimmed. progenitor's
        // paths start with `/` and its parameters are escaped, so only an odd spec path could.
        let appended = &full[self.path_prefix.len()..];
        if !appended.starts_with('/')
            || full.as_bytes().last().is_none_or(|last| *last <= b' ')
            // A plain loop: the path is short, and a vectorised search is more code to run.
            || full.bytes().any(|byte| byte == b'?' || byte == b'#')
        {
            return Ok(None);
        }
        let mut url = self.parsed.clone();
        url.set_path(&full);
        Ok(Some(url))
    }
}

fn parse(text: &str) -> Result<Url, String> {
    Url::parse(text).map_err(|e| format!("the request URL is not a URL: {e}"))
}

#[cfg(test)]
mod tests {
    use super::{BaseUrlCache, join_to as join};

    /// What the generated code did before: the whole text parsed.
    fn parsed_whole(base: &str, path: &str) -> Option<reqwest::Url> {
        reqwest::Url::parse(&format!("{base}{path}")).ok()
    }

    #[test]
    fn joining_gives_the_url_parsing_the_whole_text_gives() {
        let bases = [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "https://api.monime.io",
            "https://api.monime.io/",
            "https://API.Monime.io",
            "https://api.monime.io:443",
            "http://[::1]:9000",
            "http://localhost/prefix",
            "http://localhost/prefix/",
            "http://localhost/a%20b/",
            "http://localhost/a b",
            "http://localhost/x/../y",
            "http://user:pass@localhost:1",
            "http://localhost?q=1",
            "http://localhost#f",
            " http://localhost",
            "http://localhost/\u{e9}",
            "http://localhost/%7E",
            "http://localhost:/",
            "http://localhost:80",
            "foo://host",
            "foo://host/p",
            "mailto:someone",
            "not a url",
            "",
        ];
        let pieces = [
            "",
            "a",
            ".",
            "..",
            "%2e",
            "%2E%2e",
            "\\",
            "é",
            "€",
            "\u{2028}",
            " ",
            "%41",
            "%",
            "/",
            "//",
            ";",
            "@",
            ":",
            "[",
            "]",
            "|",
            "^",
            "'",
            "whk-0123",
            "\t",
            "~",
            "!$&()*+,=",
            "?",
            "#",
            "%2F..%2F",
            ".%2E",
        ];
        let mut rng = fastrand::Rng::with_seed(20261130);
        let mut compared = 0;
        let mut cached = Vec::new();
        for base in bases {
            let cache = BaseUrlCache::default();
            for _ in 0..400 {
                let id: String = (0..rng.usize(0..4))
                    .map(|_| pieces[rng.usize(..pieces.len())])
                    .collect();
                // Escaped as progenitor does, or raw, as an odd spec path could be written.
                let filling = if rng.bool() {
                    id
                } else {
                    progenitor_client::encode_path(&id)
                };
                let template = [
                    "/v1/webhooks/{}",
                    "/v1/webhooks",
                    "/{}/x/{}",
                    "/{}",
                    "{}",
                    ".evil.example/{}",
                    "/a/{}/../b",
                ][rng.usize(..7)];
                let path = template.replace("{}", &filling);
                let joined = join(base, &cache, format_args!("{path}"));
                assert_eq!(
                    joined.as_ref().ok(),
                    parsed_whole(base, &path).as_ref(),
                    "base {base:?}, path {path:?}"
                );
                compared += 1;
            }
            if matches!(cache.0.get(), Some(Some(_))) {
                cached.push(base);
            }
        }
        assert_eq!(compared, bases.len() * 400);
        // The bases served without parsing them again: the rest took the slow way.
        assert_eq!(
            cached,
            [
                "http://127.0.0.1:8080",
                "http://127.0.0.1:8080/",
                "https://api.monime.io",
                "https://api.monime.io/",
                "http://[::1]:9000",
                "http://localhost/prefix",
                "http://localhost/prefix/",
                "http://localhost/a%20b/",
                "http://user:pass@localhost:1",
                "http://localhost/%7E",
                "foo://host",
                "foo://host/p",
            ]
        );
    }

    #[test]
    fn a_path_with_a_query_or_fragment_is_parsed_whole() {
        let cache = BaseUrlCache::default();
        for path in ["/v1/webhooks?limit=1", "/v1/webhooks#top", "/a?b#c"] {
            let joined = join("http://localhost:1", &cache, format_args!("{path}")).unwrap();
            assert_eq!(Some(joined), parsed_whole("http://localhost:1", path));
        }
    }

    #[test]
    fn the_cache_serves_only_the_base_it_was_filled_with() {
        let cache = BaseUrlCache::default();
        let first = join("http://localhost:1", &cache, format_args!("/x")).unwrap();
        assert_eq!(first.as_str(), "http://localhost:1/x");
        let other = join("http://127.0.0.1:2", &cache, format_args!("/x")).unwrap();
        assert_eq!(other.as_str(), "http://127.0.0.1:2/x");
        let copy = cache.clone();
        let copied = join("http://127.0.0.1:3/p", &copy, format_args!("/x")).unwrap();
        assert_eq!(copied.as_str(), "http://127.0.0.1:3/p/x");
    }

    #[test]
    fn a_base_that_is_not_a_url_is_an_error_naming_why() {
        let cache = BaseUrlCache::default();
        let error = join("api.monime.io", &cache, format_args!("/v1")).unwrap_err();
        assert!(error.contains("relative URL without a base"), "{error}");
    }
}
