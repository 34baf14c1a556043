//! `tousu hash-password`: a password (first line of stdin) as the Argon2 PHC string a user's
//! `password_hash` holds, so that the config never holds a password.

use std::io::BufRead;

use anyhow::Context;
use argon2::password_hash::PasswordHasher;
use clap::Args;

/// Shortest password taken.
const MIN_CHARS: usize = 10;

#[derive(Args)]
pub struct HashPasswordArgs {}

pub fn run(_: HashPasswordArgs) -> anyhow::Result<()> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from stdin")?;
    let password = line.trim_end_matches(['\r', '\n']);
    if password.chars().count() < MIN_CHARS {
        anyhow::bail!(
            "the password is shorter than {MIN_CHARS} characters: type a longer one on stdin"
        );
    }
    let hash = argon2::Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))?;
    println!("{hash}");
    Ok(())
}
