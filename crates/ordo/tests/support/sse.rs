//! A server-sent event stream read from an API response, event by event.

use std::time::Duration;

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::Response;
use http_body_util::BodyExt as _;
use serde_json::Value;

/// The events of a `text/event-stream` response, as `(event, data)` pairs with JSON data.
pub struct Sse {
    body: Body,
    buffer: String,
}

impl Sse {
    /// Reads `response`, which must be a 200 event stream.
    pub fn new(response: Response) -> Self {
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_TYPE], "text/event-stream");
        Self { body: response.into_body(), buffer: String::new() }
    }

    /// The next event as (name, data) (`message` when unnamed), or `None` when the stream ends;
    /// keep-alive comments are skipped. Panics when nothing comes within 60 s.
    pub async fn next(&mut self) -> Option<(String, Value)> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let name = block.lines().find_map(|l| l.strip_prefix("event:")).map_or("message", str::trim);
                let data: String = block.lines().filter_map(|l| l.strip_prefix("data:")).map(str::trim_start).collect();
                if data.is_empty() {
                    continue; // a keep-alive comment
                }
                return Some((name.to_owned(), serde_json::from_str(&data).expect("JSON data")));
            }
            let frame =
                tokio::time::timeout(Duration::from_secs(60), self.body.frame()).await.expect("an event within 60 s");
            match frame {
                None => return None,
                Some(frame) => {
                    if let Ok(data) = frame.expect("a readable stream").into_data() {
                        self.buffer.push_str(std::str::from_utf8(&data).unwrap());
                    }
                }
            }
        }
    }
}
