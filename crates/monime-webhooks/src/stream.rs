//! Every webhook of the space as a stream: pages are fetched one at a time, when the previous
//! one has been consumed, so memory holds one page whatever the total.

use std::collections::VecDeque;

use futures_core::Stream;
use monime_webhooks_api::types::Webhook;

use crate::client::Client;
use crate::error::Error;
use crate::webhooks::fetch_page;

/// The page size `list_all` asks for: the largest Monime allows, for the fewest round trips.
pub const LIST_ALL_PAGE_SIZE: u64 = 50;

struct Walk {
    client: Client,
    buffer: VecDeque<Webhook>,
    next: Option<String>,
    started: bool,
    finished: bool,
}

impl Client {
    /// Every webhook of the space, page after page (50 a page), lazily. The stream ends after
    /// the first error it yields.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// # let mock = monime_mock::MonimeMock::start().await?;
    /// # let client = monime_webhooks::Client::builder().access_token("mon_test_doc")
    /// #     .space_id("spc-doc").api_url(mock.base_url()).build()?;
    /// use futures_util::TryStreamExt;
    ///
    /// let all: Vec<_> = client.list_all().try_collect().await?;
    /// println!("{} webhooks", all.len());
    /// # Ok(()) }
    /// ```
    pub fn list_all(&self) -> impl Stream<Item = Result<Webhook, Error>> + Send + 'static {
        let walk = Walk {
            client: self.clone(),
            buffer: VecDeque::new(),
            next: None,
            started: false,
            finished: false,
        };
        futures_util::stream::unfold(walk, |mut walk| async move {
            loop {
                if let Some(webhook) = walk.buffer.pop_front() {
                    return Some((Ok(webhook), walk));
                }
                if walk.finished || (walk.started && walk.next.is_none()) {
                    return None;
                }
                walk.started = true;
                match fetch_page(&walk.client, Some(LIST_ALL_PAGE_SIZE), walk.next.as_deref()).await
                {
                    Ok(page) => {
                        let page = page.into_inner();
                        // A server that repeats a cursor, sends an empty one, or an empty page
                        // with a cursor would make the walk endless: treat it as the end.
                        let stuck = page.webhooks.is_empty()
                            || page.next.as_deref().is_some_and(|next| {
                                next.is_empty() || Some(next) == walk.next.as_deref()
                            });
                        walk.next = if stuck { None } else { page.next };
                        walk.buffer.extend(page.webhooks);
                    }
                    Err(error) => {
                        walk.finished = true;
                        return Some((Err(error), walk));
                    }
                }
            }
        })
    }
}
