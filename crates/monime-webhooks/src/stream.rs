//! Every webhook of the space as a stream: pages are fetched one at a time, when the previous
//! one has been consumed, so memory holds one page whatever the total.

use std::collections::{HashSet, VecDeque};

use futures_core::Stream;
use monime_webhooks_api::spec::params;
use monime_webhooks_api::types::Webhook;

use crate::client::Client;
use crate::error::Error;
use crate::webhooks::fetch_page;

/// The page size `list_all` asks for: the largest the spec's `limit` allows, for the fewest
/// round trips.
pub fn list_all_page_size() -> u64 {
    match params::LIMIT.schema.kind {
        monime_webhooks_api::schema::Kind::Integer {
            maximum: Some(max), ..
        } => u64::try_from(max).unwrap_or(1).max(1),
        _ => 1,
    }
}

struct Walk {
    client: Client,
    buffer: VecDeque<Webhook>,
    next: Option<String>,
    seen: HashSet<String>,
    started: bool,
    finished: bool,
}

impl Client {
    /// Every webhook of the space, page after page (as large as the spec allows), lazily. The
    /// stream ends after the first error it yields; a server that hands out a cursor it gave
    /// before (which would loop forever) ends it with an error.
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
            seen: HashSet::new(),
            started: false,
            finished: false,
        };
        let page_size = list_all_page_size();
        futures_util::stream::unfold(walk, move |mut walk| async move {
            loop {
                if let Some(webhook) = walk.buffer.pop_front() {
                    return Some((Ok(webhook), walk));
                }
                if walk.finished || (walk.started && walk.next.is_none()) {
                    return None;
                }
                walk.started = true;
                let page = fetch_page(&walk.client, Some(page_size), walk.next.as_deref()).await;
                match page {
                    Ok(page) => {
                        let request_id = page.request_id().map(str::to_owned);
                        let page = page.into_inner();
                        // An empty cursor, or an empty page that still points on, ends the walk.
                        let next = page
                            .next
                            .filter(|next| !next.is_empty() && !page.webhooks.is_empty());
                        walk.buffer.extend(page.webhooks);
                        if let Some(next) = &next
                            && !walk.seen.insert(next.clone())
                        {
                            walk.finished = true;
                            walk.buffer.clear();
                            return Some((
                                Err(Error::Decode {
                                    status: 200,
                                    message: "the server repeated a page cursor; listing would \
                                              never end"
                                        .to_owned(),
                                    excerpt: String::new(),
                                    request_id,
                                }),
                                walk,
                            ));
                        }
                        walk.next = next;
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
