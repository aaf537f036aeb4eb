//! Per-request trace ids: generated for every request, attached to the tracing span and echoed
//! as `clerk_trace_id` in error envelopes so an operator can find the log line.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

tokio::task_local! {
    /// The trace id of the request being handled.
    pub static TRACE_ID: String;
}

/// The current request's trace id, if inside a request.
pub fn current_trace_id() -> Option<String> {
    TRACE_ID.try_with(Clone::clone).ok()
}

/// Middleware: gives the request a trace id, a span, and one completion log line.
pub async fn with_trace_id(request: Request, next: Next) -> Response {
    // Not a secret: the thread's userspace generator (seeded from the OS) spares every request
    // a `getrandom` system call.
    let trace_id = concierge_core::ids::random_base62(&mut rand::thread_rng(), 24);
    let span = tracing::info_span!(
        "request",
        trace_id = %trace_id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    let started = std::time::Instant::now();
    TRACE_ID
        .scope(trace_id, async move {
            let response = next.run(request).await;
            tracing::debug!(
                status = response.status().as_u16(),
                duration_ms = started.elapsed().as_secs_f64() * 1000.0,
                "request finished"
            );
            response
        })
        .instrument(span)
        .await
}
