//! Captures the `Retry-After` of a refused handshake.
//!
//! awc's WebSocket `connect` reports a refused handshake as
//! `WsClientError::InvalidResponseStatus(status)` and drops the response headers. This
//! client middleware sees the response head first and keeps the header's value.
//!
//! The value is kept per thread, because the awc client is shared by every connection
//! of the thread. That is race-free: the middleware stores the value of each response
//! just before awc checks that response's status, and the connection reads it when
//! awc's error reaches it, within the same poll of the same task; nothing else runs on
//! the thread in between.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use actix_service::Service;
use awc::error::SendRequestError;
use awc::http::header::{HeaderValue, HttpDate, RETRY_AFTER};
use awc::middleware::Transform;
use awc::{ConnectRequest, ConnectResponse};

thread_local! {
    /// The `Retry-After` of the latest handshake response on this thread.
    static LATEST: Cell<Option<Duration>> = const { Cell::new(None) };
}

/// The `Retry-After` of the handshake response whose error is being handled.
pub(crate) fn take_retry_after() -> Option<Duration> {
    LATEST.with(Cell::take)
}

/// The awc middleware (a `Transform` over the connector service).
#[derive(Debug)]
pub(crate) struct CaptureRetryAfter;

impl<S> Transform<S, ConnectRequest> for CaptureRetryAfter
where
    S: Service<ConnectRequest, Response = ConnectResponse, Error = SendRequestError> + 'static,
{
    type Transform = CaptureRetryAfterService<S>;

    fn new_transform(self, service: S) -> Self::Transform {
        CaptureRetryAfterService {
            service: Rc::new(service),
        }
    }
}

#[derive(Debug)]
pub(crate) struct CaptureRetryAfterService<S> {
    service: Rc<S>,
}

impl<S> Service<ConnectRequest> for CaptureRetryAfterService<S>
where
    S: Service<ConnectRequest, Response = ConnectResponse, Error = SendRequestError> + 'static,
{
    type Response = ConnectResponse;
    type Error = SendRequestError;
    type Future = Pin<Box<dyn Future<Output = Result<ConnectResponse, SendRequestError>>>>;

    actix_service::forward_ready!(service);

    fn call(&self, request: ConnectRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        Box::pin(async move {
            let response = service.call(request).await?;
            let headers = match &response {
                ConnectResponse::Tunnel(head, _) => &head.headers,
                ConnectResponse::Client(response) => response.headers(),
            };
            let retry_after = headers
                .get(RETRY_AFTER)
                .and_then(|value| parse_retry_after(value, SystemTime::now()));
            LATEST.with(|latest| latest.set(retry_after));
            Ok(response)
        })
    }
}

/// `Retry-After` is either delay-seconds or an HTTP date (RFC 9110 §10.2.3).
pub(crate) fn parse_retry_after(value: &HeaderValue, now: SystemTime) -> Option<Duration> {
    let text = value.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date: SystemTime = text.parse::<HttpDate>().ok()?.into();
    // A date in the past means "now".
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_delay_seconds() {
        let now = SystemTime::now();
        assert_eq!(
            parse_retry_after(&HeaderValue::from_static("120"), now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after(&HeaderValue::from_static("-1"), now),
            None
        );
        assert_eq!(
            parse_retry_after(&HeaderValue::from_static("soon"), now),
            None
        );
    }

    #[test]
    fn parses_http_dates_relative_to_now() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_480);
        // 2015-10-21 07:28:00 GMT is 1_445_412_480.
        let later = HeaderValue::from_static("Wed, 21 Oct 2015 07:28:30 GMT");
        assert_eq!(
            parse_retry_after(&later, now),
            Some(Duration::from_secs(30))
        );
        let past = HeaderValue::from_static("Wed, 21 Oct 2015 07:27:00 GMT");
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
    }
}
