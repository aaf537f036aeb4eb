//! Crypto rates on one thread, printed as a markdown table: raw RS256 signatures with a key
//! parsed once, `Signer::sign_jwt` for session-token-shaped claims (and its ratio to raw),
//! RS256 verifications, and argon2id hashes with the production parameters.
//!
//! With `--raw sign` or `--raw argon2` (and optionally `--ms N`, the time to measure for) it
//! prints only that raw rate per core with every core busy, as one number: `scripts/bench.sh`
//! measures it between the slices of each HTTP row it compares with it, so the ratio is taken
//! within one stretch of the machine's time.
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

/// A fresh RSA signing key pair, parsed once.
fn signing_pair() -> (concierge_core::SigningKey, KeyPair) {
    let key = generate_signing_key(
        &InstanceId::generate(&mut rand::rngs::OsRng),
        &mut rand::rngs::OsRng,
        0,
    )
    .unwrap();
    let pair = KeyPair::from_pkcs8(&key.private_key_der).unwrap();
    (key, pair)
}

/// Raw RS256 signatures (400-byte message) per core with `cores` threads signing at once.
fn raw_sign_per_core(budget: Duration, cores: usize, pair: &KeyPair) -> f64 {
    let rng = SystemRandom::new();
    parallel_rate(budget, cores, || {
        let mut signature = vec![0u8; pair.public_modulus_len()];
        pair.sign(&RSA_PKCS1_SHA256, &rng, &[b'x'; 400], &mut signature)
            .unwrap();
    })
}

/// argon2id hashes with the production parameters per core with `cores` threads at once.
fn argon2_per_core(budget: Duration, cores: usize) -> f64 {
    parallel_rate(budget, cores, || {
        hash_password("correct horse battery staple", &mut rand::rngs::OsRng).unwrap();
    })
}

fn main() {
    let budget = Duration::from_secs(2);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let args: Vec<String> = std::env::args().collect();
    if let Some(which) = args
        .iter()
        .position(|a| a == "--raw")
        .and_then(|i| args.get(i + 1))
    {
        // `--ms N`: measure for N milliseconds instead of two seconds.
        let budget = args
            .iter()
            .position(|a| a == "--ms")
            .and_then(|i| args.get(i + 1))
            .and_then(|ms| ms.parse().ok())
            .map_or(budget, Duration::from_millis);
        let rate = match which.as_str() {
            "sign" => raw_sign_per_core(budget, cores, &signing_pair().1),
            "argon2" => argon2_per_core(budget, cores),
            other => {
                eprintln!("--raw takes sign or argon2, not {other:?}");
                std::process::exit(2);
            }
        };
        println!("{rate:.1}");
        return;
    }
    let (key, pair) = signing_pair();
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

    let raw_all = raw_sign_per_core(budget, cores, &pair);
    let argon_all = argon2_per_core(budget, cores);

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
