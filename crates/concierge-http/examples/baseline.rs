//! A bare axum handler on the same runtime settings as the server: the ceiling that
//! `scripts/bench.sh` compares Concierge's request rates against.
//!
//! Usage: `cargo run --release -p concierge-http --example baseline -- 127.0.0.1:4099`
#![allow(clippy::expect_used)]

use axum::routing::get;
use axum::Router;

#[tokio::main]
async fn main() {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:4099".into());
    let app = Router::new().route("/v1/users/{id}", get(|| async { "{}" }));
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .expect("bind the baseline address");
    axum::serve(listener, app)
        .await
        .expect("serve the baseline");
}
