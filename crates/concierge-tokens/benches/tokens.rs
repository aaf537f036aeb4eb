//! Crypto rates on one thread, printed as a markdown table: raw RS256 signatures with a key
//! parsed once, `Signer::sign_jwt` for session-token-shaped claims (and its ratio to raw),
//! RS256 verifications, and argon2id hashes with the production parameters.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeyPair;
use aws_lc_rs::signature::RSA_PKCS1_SHA256;
use concierge_core::InstanceId;
use concierge_tokens::{generate_signing_key, hash_password, verify_rs256, Signer};
use serde_json::{json, Map};
use std::time::{Duration, Instant};

fn rate(budget: Duration, mut work: impl FnMut()) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < budget {
        work();
        n += 1;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// The rate per thread when `threads` threads run `work` at once (what one core does while
/// every core of the machine is busy, as in a loaded server).
fn parallel_rate(budget: Duration, threads: usize, work: impl Fn() + Sync) -> f64 {
    let total: f64 = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| scope.spawn(|| rate(budget, &work)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    total / threads as f64
}

fn main() {
    let budget = Duration::from_secs(2);
    let key = generate_signing_key(
        &InstanceId::generate(&mut rand::rngs::OsRng),
        &mut rand::rngs::OsRng,
        0,
    )
    .unwrap();
    let pair = KeyPair::from_pkcs8(&key.private_key_der).unwrap();
    let rng = SystemRandom::new();
    let message = [b'x'; 400];
    let mut signature = vec![0u8; pair.public_modulus_len()];
    let raw = rate(budget, || {
        pair.sign(&RSA_PKCS1_SHA256, &rng, &message, &mut signature)
            .unwrap()
    });

    let signer = Signer::new(&key).unwrap();
    let mut claims = Map::new();
    for (k, v) in [
        ("azp", json!("http://localhost:3000")),
        ("exp", json!(1_767_225_660)),
        ("fva", json!([0, -1])),
        ("iat", json!(1_767_225_600)),
        ("iss", json!("https://clerk.example.test")),
        ("nbf", json!(1_767_225_590)),
        ("sid", json!("sess_2abcdefghijklmnopqrstuvwxyz")),
        ("sts", json!("active")),
        ("sub", json!("user_2abcdefghijklmnopqrstuvwxyz")),
        ("v", json!(2)),
    ] {
        claims.insert(k.into(), v);
    }
    let header = Map::new();
    let mut token = String::new();
    let minted = rate(budget, || {
        token = signer.sign_jwt(&header, &claims).unwrap()
    });
    let keys = [key];
    let verified = rate(budget, || {
        verify_rs256(&token, &keys, 1_767_225_600_000, 5000).unwrap();
    });
    let argon = rate(budget, || {
        hash_password("correct horse battery staple", &mut rand::rngs::OsRng).unwrap();
    });

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let raw_all = parallel_rate(budget, cores, || {
        let mut signature = vec![0u8; pair.public_modulus_len()];
        pair.sign(&RSA_PKCS1_SHA256, &rng, &message, &mut signature)
            .unwrap();
    });
    let argon_all = parallel_rate(budget, cores, || {
        hash_password("correct horse battery staple", &mut rand::rngs::OsRng).unwrap();
    });

    println!("| operation (1 thread unless noted) | per second | vs raw RS256 sign |");
    println!("|---|---|---|");
    println!("| raw RS256 sign (aws-lc-rs, key parsed once) | {raw:.0} | 100% |");
    println!(
        "| session token minted (`Signer::sign_jwt`) | {minted:.0} | {:.1}% |",
        minted / raw * 100.0
    );
    println!("| RS256 verify | {verified:.0} | |");
    println!("| argon2id hash (m=19456 KiB, t=2, p=1) | {argon:.1} | |");
    println!("| raw RS256 sign, every core busy (per core, {cores} threads) | {raw_all:.0} | |");
    println!("| argon2id hash, every core busy (per core, {cores} threads) | {argon_all:.1} | |");
}
