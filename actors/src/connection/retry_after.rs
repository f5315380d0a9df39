//! Captures the `Retry-After` of a refused handshake.
//!
//! awc's WebSocket `connect` reports a refused handshake as
//! `WsClientError::InvalidResponseStatus(status)` and drops the response headers. This
//! client middleware sees the response head first and keeps the header's value.
//!
//! The awc client, and so this middleware, is shared by every connection of the thread,
//! and awc offers no way to attach data to a WebSocket request. So each attempt gets
//! its own [`RetryAfterSlot`], registered on this thread under a number that the
//! request carries in a private header; the middleware takes the header off before the
//! request is written, and stores the response's value in that attempt's slot. Which
//! response belongs to which attempt thus never depends on how awc polls its futures.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use actix_service::Service;
use awc::error::SendRequestError;
use awc::http::header::{HeaderName, HeaderValue, HttpDate, RETRY_AFTER};
use awc::middleware::Transform;
use awc::ws::WebsocketsRequest;
use awc::{ConnectRequest, ConnectResponse};

/// The header naming an attempt's slot. It never reaches the server.
const SLOT_HEADER: HeaderName = HeaderName::from_static("x-tether-retry-after-slot");

type Value = Rc<Cell<Option<Duration>>>;

thread_local! {
    /// The slots of the attempts in flight on this thread, by number.
    static SLOTS: RefCell<HashMap<u64, Value>> = RefCell::new(HashMap::new());
    static NEXT_SLOT: Cell<u64> = const { Cell::new(0) };
}

/// Where one handshake attempt's `Retry-After` lands. Unregistered when dropped, so the
/// registry holds one entry per attempt in flight at most.
#[derive(Debug)]
pub(crate) struct RetryAfterSlot {
    id: u64,
    value: Value,
}

impl RetryAfterSlot {
    /// A fresh slot, registered on this thread.
    pub(crate) fn new() -> Self {
        let id = NEXT_SLOT.with(|next| {
            let id = next.get();
            next.set(id.wrapping_add(1));
            id
        });
        let value = Value::default();
        SLOTS.with(|slots| slots.borrow_mut().insert(id, value.clone()));
        Self { id, value }
    }

    /// Names this slot on `request`, so that the middleware finds it.
    pub(crate) fn mark(&self, request: WebsocketsRequest) -> WebsocketsRequest {
        request.set_header(SLOT_HEADER, HeaderValue::from(self.id))
    }

    /// The `Retry-After` of the response to this attempt, at most `cap`.
    pub(crate) fn take(&self, cap: Duration) -> Option<Duration> {
        self.value.take().map(|delay| delay.min(cap))
    }
}

impl Drop for RetryAfterSlot {
    fn drop(&mut self) {
        // `try_with`: a slot may be dropped while the thread's locals are torn down.
        let _ = SLOTS.try_with(|slots| slots.borrow_mut().remove(&self.id));
    }
}

/// Takes the slot header off `request` and finds its slot.
fn claim(request: &mut ConnectRequest) -> Option<Value> {
    let headers = match request {
        ConnectRequest::Tunnel(head, _) => &mut head.headers,
        ConnectRequest::Client(..) => return None,
    };
    let value = headers.remove(SLOT_HEADER).next()?;
    let id: u64 = value.to_str().ok()?.parse().ok()?;
    SLOTS.with(|slots| slots.borrow().get(&id).cloned())
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

    fn call(&self, mut request: ConnectRequest) -> Self::Future {
        let slot = claim(&mut request);
        let service = Rc::clone(&self.service);
        Box::pin(async move {
            let response = service.call(request).await?;
            if let Some(slot) = slot {
                let headers = match &response {
                    ConnectResponse::Tunnel(head, _) => &head.headers,
                    ConnectResponse::Client(response) => response.headers(),
                };
                let retry_after = headers
                    .get(RETRY_AFTER)
                    .and_then(|value| parse_retry_after(value, SystemTime::now()));
                slot.set(retry_after);
            }
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
    fn a_slot_is_capped_and_unregistered_when_dropped() {
        let slot = RetryAfterSlot::new();
        let id = slot.id;
        let registered = SLOTS.with(|slots| slots.borrow().get(&id).cloned());
        let registered = registered.expect("registered while alive");
        registered.set(Some(Duration::from_secs(u64::MAX)));
        let cap = Duration::from_secs(300);
        assert_eq!(slot.take(cap), Some(cap));
        assert_eq!(slot.take(cap), None, "taken once");
        registered.set(Some(Duration::from_secs(2)));
        assert_eq!(slot.take(cap), Some(Duration::from_secs(2)));
        drop(slot);
        assert!(SLOTS.with(|slots| !slots.borrow().contains_key(&id)));
    }

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
