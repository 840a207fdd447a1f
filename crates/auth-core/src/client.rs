//! Who is on the other end of a request: the client's address and an
//! approximate description of its device, recorded with sessions and
//! history events so an account's owner can recognise them.

use std::fmt;
use std::net::IpAddr;

/// A short, human description of a browser and its system ("Chrome on
/// Linux"), derived from a `User-Agent` header at login.
///
/// It is approximate by nature (anyone can send any `User-Agent`) and is
/// shown to the account's owner to help them recognise their sessions, never
/// trusted for a decision. At most [`Device::MAX_CHARS`] characters, with no
/// control characters, so a hostile header cannot bloat a row or a page.
///
/// ```
/// use auth_core::Device;
///
/// let chromium = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 \
///     (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
/// assert_eq!(Device::from_user_agent(chromium).unwrap().as_str(), "Chrome on Linux");
/// assert_eq!(Device::from_user_agent("probe/2.1 (ops)").unwrap().as_str(), "probe");
/// assert!(Device::from_user_agent("").is_none());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Device(String);

impl Device {
    /// The longest description kept, in characters.
    pub const MAX_CHARS: usize = 64;

    /// The device a `User-Agent` header describes, if it says anything
    /// recognisable: the browser's name and, when known, its system. An
    /// unrecognised agent is described by its first word (`probe/2.1` is
    /// "probe").
    pub fn from_user_agent(user_agent: &str) -> Option<Self> {
        let known = |value: &str| !value.is_empty() && value != woothee::woothee::VALUE_UNKNOWN;
        let parsed = woothee::parser::Parser::new().parse(user_agent);
        let label = match parsed {
            Some(found) if known(found.name) && known(found.os) => {
                format!("{} on {}", found.name, found.os)
            }
            Some(found) if known(found.name) => found.name.to_owned(),
            _ => user_agent
                .split(['/', ' ', ';', '('])
                .next()
                .unwrap_or_default()
                .to_owned(),
        };
        Self::new(&label)
    }

    /// A description read back from a store, cleaned as
    /// [`Device::from_user_agent`] cleans one; `None` if nothing is left.
    pub fn new(label: &str) -> Option<Self> {
        let clean: String = label
            .chars()
            .filter(|c| !c.is_control())
            .take(Self::MAX_CHARS)
            .collect();
        let clean = clean.trim();
        (!clean.is_empty()).then(|| Self(clean.to_owned()))
    }

    /// The description.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Device({:?})", self.0)
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What is known about the client behind a call: its address (for
/// per-address throttling, and shown in the history) and its device. Both
/// are optional: a command-line tool or a test has neither.
///
/// An address alone converts into one, so `login_from(email, password,
/// Some(ip))` reads naturally.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's address, as the caller determined it (the TCP peer, or
    /// a header from a trusted proxy).
    pub addr: Option<IpAddr>,
    /// The client's device, from its `User-Agent`.
    pub device: Option<Device>,
}

impl ClientInfo {
    /// A client known by its address and `User-Agent` header.
    pub fn new(addr: Option<IpAddr>, user_agent: Option<&str>) -> Self {
        Self {
            addr,
            device: user_agent.and_then(Device::from_user_agent),
        }
    }
}

impl From<Option<IpAddr>> for ClientInfo {
    fn from(addr: Option<IpAddr>) -> Self {
        Self { addr, device: None }
    }
}

impl From<IpAddr> for ClientInfo {
    fn from(addr: IpAddr) -> Self {
        Some(addr).into()
    }
}

impl From<&ClientInfo> for ClientInfo {
    fn from(client: &ClientInfo) -> Self {
        client.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_browsers_are_named_with_their_system() {
        let cases = [
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
                "Firefox on Windows 10",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1",
                "Safari on iPhone",
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/120.0.0.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
        ];
        for (agent, expected) in cases {
            assert_eq!(
                Device::from_user_agent(agent).map(|d| d.0),
                Some(expected.to_owned()),
                "{agent}"
            );
        }
    }

    #[test]
    fn hostile_agents_are_cut_and_cleaned() {
        let long = format!("{}\u{7}/1.0", "x".repeat(500));
        let device = Device::from_user_agent(&long).unwrap();
        assert_eq!(device.as_str().chars().count(), Device::MAX_CHARS);
        assert!(Device::new("\n\t ").is_none());
        assert_eq!(Device::new("a\u{0}b").unwrap().as_str(), "ab");
    }
}
