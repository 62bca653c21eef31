//! Numbers as people read them, the same everywhere they are shown (lists, forms, confirm
//! dialogs, outcomes): `22,306`, not `22306`. A leaf.

/// `n` (any integer type up to 64 bits: counts are often `u64`) with a comma between each
/// group of three digits.
pub fn thousands(n: impl Into<i128>) -> String {
    let n: i128 = n.into();
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// A whole number as people type it: `1,000`, `1_000` and `1000` alike. Separators only
/// between groups of three digits: `10,00` or `1,5` is a typo (or a decimal comma), not a
/// thousand or fifteen.
pub fn parse_whole(text: &str) -> Option<i64> {
    let text = text.trim();
    let (sign, digits) = match text.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", text),
    };
    let groups: Vec<&str> = digits.split([',', '_']).collect();
    let grouped = groups.len() > 1;
    let well_formed = groups.iter().enumerate().all(|(i, g)| {
        g.chars().all(|c| c.is_ascii_digit())
            && match (grouped, i) {
                (false, _) => !g.is_empty(),
                (true, 0) => (1..=3).contains(&g.len()),
                (true, _) => g.len() == 3,
            }
    });
    if !well_formed {
        return None;
    }
    format!("{sign}{}", groups.concat()).parse().ok()
}

/// A count of credits from the command line (`--amount 1,000`), from 1 to `max`.
pub fn credits_arg(text: &str, max: i64) -> Result<i64, String> {
    match parse_whole(text) {
        Some(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!(
            "{text:?} is not a whole number of credits from 1 to {}",
            thousands(max)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::{credits_arg, parse_whole, thousands};

    #[test]
    fn whole_numbers_are_read_with_or_without_separators() {
        assert_eq!(parse_whole(" 1,000 "), Some(1000));
        assert_eq!(parse_whole("1_000"), Some(1000));
        assert_eq!(parse_whole("10062"), Some(10062));
        assert_eq!(parse_whole("1.5"), None);
        assert_eq!(parse_whole("abc"), None);
        assert_eq!(parse_whole("1,000,000"), Some(1_000_000));
        assert_eq!(parse_whole("-1,234"), Some(-1234));
        // A separator anywhere but between groups of three is a typo, not a number.
        for typo in [
            "10,00", "1,00", "0,0,1", "1,5", ",100", "100,", "1,,000", "1_0000", "",
        ] {
            assert_eq!(parse_whole(typo), None, "{typo:?}");
        }
        assert_eq!(credits_arg("1,000", 5000), Ok(1000));
        assert_eq!(
            credits_arg("0", 5000),
            Err("\"0\" is not a whole number of credits from 1 to 5,000".to_string())
        );
    }

    #[test]
    fn groups_of_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(22306), "22,306");
        assert_eq!(thousands(-1234567), "-1,234,567");
        assert_eq!(thousands(i64::MIN), "-9,223,372,036,854,775,808");
    }
}
