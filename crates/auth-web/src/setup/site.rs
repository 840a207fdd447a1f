//! The site's own address: the base of every link in a mail and the origin
//! passkeys are made for. It comes from `public_url`, never from a
//! request's `Host` header.

/// `public_url`, or, without it, the address the server listens on. A
/// loopback or unspecified address is named `localhost`: browsers accept
/// passkeys only for a domain name, and treat `http://localhost` as secure.
pub fn url(public_url: Option<&str>, config: &rocket::Config) -> String {
    if let Some(url) = public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = match config.address {
        ip if ip.is_unspecified() || ip.is_loopback() => "localhost".to_owned(),
        std::net::IpAddr::V6(ip) => format!("[{ip}]"),
        ip => ip.to_string(),
    };
    format!("http://{host}:{}", config.port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_url_wins_and_loopback_is_localhost() {
        let mut config = rocket::Config {
            port: 8000,
            ..rocket::Config::default()
        };
        assert_eq!(
            url(Some("https://auth.example.com/"), &config),
            "https://auth.example.com"
        );
        config.address = "127.0.0.1".parse().unwrap();
        assert_eq!(url(None, &config), "http://localhost:8000");
        config.address = "0.0.0.0".parse().unwrap();
        assert_eq!(url(None, &config), "http://localhost:8000");
        config.address = "192.0.2.1".parse().unwrap();
        assert_eq!(url(None, &config), "http://192.0.2.1:8000");
        config.address = "2001:db8::1".parse().unwrap();
        assert_eq!(url(None, &config), "http://[2001:db8::1]:8000");
    }
}
