//! The check digits of the personal numbers the tests plant, computed here rather than taken
//! from `tousu::text`, so that the masking is checked against an independent reckoning.

/// The GB 11643 check character (`0`–`9` or `X`) of a 身份证 number's first 17 digits.
pub fn id_check_digit(first17: &str) -> char {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    b"10X98765432"[(sum % 11) as usize] as char
}

/// The Luhn (mod 10) check digit that completes the digits of `payload`.
pub fn luhn_check_digit(payload: &str) -> char {
    let sum: u32 = payload
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = u32::from(c - b'0');
            // The check digit will be the last: every other digit before it is doubled.
            if i % 2 == 0 {
                let dd = d * 2;
                if dd > 9 { dd - 9 } else { dd }
            } else {
                d
            }
        })
        .sum();
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

/// Whether a number of digits passes the Luhn check.
pub fn luhn_valid(digits: &str) -> bool {
    match digits.char_indices().last() {
        Some((i, last)) => luhn_check_digit(&digits[..i]) == last,
        None => false,
    }
}
