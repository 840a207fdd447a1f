//! Who a request comes from: the address it really comes from (for
//! per-address throttling) and the device its `User-Agent` describes.

use std::net::{IpAddr, SocketAddr};

use auth_core::ClientInfo;
use ipnet::IpNet;
use rocket::outcome::Outcome;
use rocket::request::{self, FromRequest, Request};

use crate::setup::config::InvalidSetting;

/// The reverse proxies whose `X-Forwarded-For` header is believed.
///
/// Without a proxy, the client is the TCP peer, and a header naming some
/// other address is ignored: anyone can send one, and an attacker who could
/// choose their address would never reach a per-address limit. Behind a
/// proxy, every request's peer is the proxy, so the client is read from the
/// header the proxy appends to, from the right: the first address that is
/// not one of these proxies. Entries further left were written by the
/// client and are not trusted.
#[derive(Debug, Clone, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Parses addresses (`10.0.0.5`) and networks (`10.0.0.0/8`).
    pub fn parse(entries: &[String]) -> Result<Self, InvalidSetting> {
        entries
            .iter()
            .map(|entry| {
                let entry = entry.trim();
                entry
                    .parse::<IpNet>()
                    .or_else(|_| entry.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| {
                        InvalidSetting::new(
                            "trusted_proxies",
                            format!("{entry:?}"),
                            "is not an address or a network such as 10.0.0.0/8",
                        )
                    })
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn trusts(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.0.iter().any(|net| net.contains(&address))
    }

    /// The client of a request from `peer` carrying these
    /// `X-Forwarded-For` values.
    pub fn client<'h>(
        &self,
        peer: Option<IpAddr>,
        forwarded_for: impl DoubleEndedIterator<Item = &'h str>,
    ) -> Option<IpAddr> {
        let mut client = peer?;
        if !self.trusts(client) {
            return Some(canonical(client));
        }
        let hops = forwarded_for.rev().flat_map(|value| value.rsplit(','));
        for hop in hops {
            let Some(address) = parse_hop(hop) else {
                break;
            };
            client = address;
            if !self.trusts(address) {
                break;
            }
        }
        Some(canonical(client))
    }
}

/// One `X-Forwarded-For` entry: an address, possibly with a port
/// (`192.0.2.1:5000`, `[2001:db8::1]:5000`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// IPv4 addresses seen through an IPv6 socket (`::ffff:192.0.2.1`) as IPv4.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

/// The client of the request: its address as [`TrustedProxies`] determines
/// it (`None` when the server cannot tell, as with Rocket's local test
/// client) and its device, from the `User-Agent` header.
#[derive(Debug, Clone)]
pub struct Client(pub ClientInfo);

impl Client {
    /// The client of `req`.
    pub fn of(req: &Request<'_>) -> Self {
        let peer = req.remote().map(|socket| socket.ip());
        let addr = match req.rocket().state::<TrustedProxies>() {
            Some(proxies) => {
                let forwarded: Vec<&str> = req.headers().get("X-Forwarded-For").collect();
                proxies.client(peer, forwarded.into_iter())
            }
            None => peer,
        };
        Self(ClientInfo::new(addr, req.headers().get_one("User-Agent")))
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for Client {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        Outcome::Success(Client::of(req))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client() {
        let none = TrustedProxies::default();
        let spoofed = ["6.6.6.6"];
        assert_eq!(
            none.client(Some(ip("192.0.2.1")), spoofed.into_iter()),
            Some(ip("192.0.2.1"))
        );
        assert_eq!(none.client(None, spoofed.into_iter()), None);
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client() {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8".into(), "127.0.0.1".into()]).unwrap();
        let proxy = Some(ip("10.1.2.3"));
        // The client wrote "6.6.6.6" itself; the proxy appended the real peer.
        let header = ["6.6.6.6, 198.51.100.7"];
        assert_eq!(
            proxies.client(proxy, header.into_iter()),
            Some(ip("198.51.100.7"))
        );
        // Two proxies in a row, and the header split over two lines.
        let header = ["6.6.6.6, 198.51.100.7", "10.9.9.9"];
        assert_eq!(
            proxies.client(proxy, header.into_iter()),
            Some(ip("198.51.100.7"))
        );
        // Ports and brackets.
        let header = ["[2001:db8::1]:443"];
        assert_eq!(
            proxies.client(proxy, header.into_iter()),
            Some(ip("2001:db8::1"))
        );
        // No header: the proxy itself.
        assert_eq!(proxies.client(proxy, std::iter::empty()), proxy);
        // Garbage stops the walk at the last good hop.
        let header = ["garbage, 10.9.9.9"];
        assert_eq!(
            proxies.client(proxy, header.into_iter()),
            Some(ip("10.9.9.9"))
        );
        // An untrusted peer's header is ignored.
        let header = ["198.51.100.7"];
        assert_eq!(
            proxies.client(Some(ip("203.0.113.1")), header.into_iter()),
            Some(ip("203.0.113.1"))
        );
        // IPv4-mapped peers count as IPv4.
        assert_eq!(
            proxies.client(Some(ip("::ffff:127.0.0.1")), ["198.51.100.7"].into_iter()),
            Some(ip("198.51.100.7"))
        );
    }

    #[test]
    fn bad_entries_are_refused_with_their_value() {
        let error = TrustedProxies::parse(&["10.0.0.0/33".into()]).unwrap_err();
        assert!(error.to_string().contains("10.0.0.0/33"));
    }
}
