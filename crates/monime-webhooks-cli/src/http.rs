//! What every command that talks to a receiver or the emulator shares: a URL checked to be
//! http(s), and an HTTP client that follows no redirect (a body and its signature go to the
//! host the user named, and nowhere else) and gives up after a time.

use std::time::Duration;

use crate::cli::Failure;

/// `text`, from the flag or setting `what`, as an http or https URL.
pub(crate) fn http_url(text: &str, what: &str) -> Result<reqwest::Url, Failure> {
    let url = reqwest::Url::parse(text)
        .map_err(|e| Failure::Usage(format!("{what} is not a URL ({e})")))?;
    if matches!(url.scheme(), "http" | "https") {
        Ok(url)
    } else {
        Err(Failure::Usage(format!(
            "{what} must be an http or https URL"
        )))
    }
}

/// A client that follows no redirect and waits at most `timeout` for an answer.
pub(crate) fn client(timeout: Duration) -> Result<reqwest::Client, Failure> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .build()
        .map_err(|e| Failure::Failed(format!("cannot build the HTTP client: {e}")))
}
