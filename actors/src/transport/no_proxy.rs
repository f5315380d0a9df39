//! `NO_PROXY`: which hosts are reached directly although a proxy is configured.
//!
//! The rules most tools share (curl, Go, Python `requests`): a comma- or
//! space-separated list of
//! - `*`: every host;
//! - a host name, which matches itself and every subdomain (`example.com` and
//!   `.example.com` both match `example.com` and `api.example.com`, not
//!   `badexample.com`; `*.example.com` is read as `.example.com`);
//! - an IP address, which matches that address, or a CIDR block (`10.0.0.0/8`,
//!   `fd00::/8`), which matches the addresses in it;
//!
//! each optionally followed by `:port` to match that port only. Names compare without
//! case and without a trailing dot. Names are never resolved: an IP rule matches only a
//! URL written with an IP address.

use std::net::IpAddr;

use ipnet::IpNet;

/// One entry of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    /// A domain and its subdomains, lowercase, without leading or trailing dots.
    Domain(Box<str>),
    /// An address block (a single address is a /32 or /128).
    Net(IpNet),
}

/// A parsed `NO_PROXY` list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NoProxy {
    everything: bool,
    rules: Vec<(Rule, Option<u16>)>,
}

impl NoProxy {
    /// Parses the list; entries that are not understood are skipped, as other tools do.
    pub(crate) fn parse(list: &str) -> Self {
        let mut parsed = Self::default();
        for entry in list
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|entry| !entry.is_empty())
        {
            if entry == "*" {
                parsed.everything = true;
            } else if let Some(rule) = parse_entry(entry) {
                parsed.rules.push(rule);
            }
        }
        parsed
    }

    /// Whether a URL with this host (as written, IPv6 with or without brackets) and port
    /// bypasses the proxy.
    pub(crate) fn matches(&self, host: &str, port: u16) -> bool {
        if self.everything {
            return true;
        }
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let ip = host.parse::<IpAddr>().ok();
        let name = host.trim_end_matches('.').to_ascii_lowercase();
        self.rules.iter().any(|(rule, rule_port)| {
            rule_port.map_or(true, |wanted| wanted == port)
                && match (rule, ip) {
                    (Rule::Net(net), Some(ip)) => net.contains(&ip),
                    (Rule::Domain(domain), None) => {
                        name == **domain
                            || name
                                .strip_suffix(&**domain)
                                .is_some_and(|prefix| prefix.ends_with('.'))
                    }
                    _ => false,
                }
        })
    }
}

fn parse_entry(entry: &str) -> Option<(Rule, Option<u16>)> {
    // An address or block without a port: `::1`, `fd00::/8`, `10.0.0.0/8`, `10.0.0.1`.
    if let Some(rule) = parse_net(entry) {
        return Some((rule, None));
    }
    // `[v6]` or `[v6]:port`.
    if let Some(rest) = entry.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            _ => Some(after.strip_prefix(':')?.parse().ok()?),
        };
        return Some((parse_net(inside)?, port));
    }
    // `host:port`, `v4:port`; a name without a port.
    let (host, port) = match entry.rsplit_once(':') {
        Some((host, port)) => (host, Some(port.parse().ok()?)),
        None => (entry, None),
    };
    if let Some(rule) = parse_net(host) {
        return Some((rule, port));
    }
    let domain = host
        .trim_start_matches('*')
        .trim_start_matches('.')
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if domain.is_empty() || domain.contains(['/', '*', '[', ']']) {
        return None;
    }
    Some((Rule::Domain(domain.into_boxed_str()), port))
}

fn parse_net(text: &str) -> Option<Rule> {
    if let Ok(ip) = text.parse::<IpAddr>() {
        return Some(Rule::Net(IpNet::from(ip)));
    }
    text.parse::<IpNet>().ok().map(|net| Rule::Net(net.trunc()))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_name_matches_itself_and_its_subdomains_only() {
        for list in [
            "example.com",
            ".example.com",
            "*.example.com",
            "EXAMPLE.com.",
        ] {
            let rules = NoProxy::parse(list);
            assert!(rules.matches("example.com", 443), "{list}");
            assert!(rules.matches("api.Example.com", 443), "{list}");
            assert!(rules.matches("a.b.example.com.", 80), "{list}");
            assert!(!rules.matches("badexample.com", 443), "{list}");
            assert!(!rules.matches("example.com.evil.test", 443), "{list}");
            assert!(!rules.matches("127.0.0.1", 443), "{list}");
        }
    }

    #[test]
    fn addresses_and_blocks_match_ip_hosts() {
        let rules = NoProxy::parse("127.0.0.1, 10.0.0.0/8 ::1 fd00::/8");
        assert!(rules.matches("127.0.0.1", 80));
        assert!(!rules.matches("127.0.0.2", 80));
        assert!(rules.matches("10.200.3.4", 80));
        assert!(!rules.matches("11.0.0.1", 80));
        assert!(rules.matches("[::1]", 80));
        assert!(rules.matches("::1", 80));
        assert!(rules.matches("[fd12::5]", 80));
        assert!(!rules.matches("[fe80::1]", 80));
        // Names are not resolved.
        assert!(!rules.matches("localhost", 80));
    }

    #[test]
    fn a_port_narrows_a_rule() {
        let rules = NoProxy::parse("internal.test:8443,127.0.0.1:9000,[::1]:7000");
        assert!(rules.matches("internal.test", 8443));
        assert!(!rules.matches("internal.test", 443));
        assert!(rules.matches("127.0.0.1", 9000));
        assert!(!rules.matches("127.0.0.1", 9001));
        assert!(rules.matches("[::1]", 7000));
        assert!(!rules.matches("[::1]", 7001));
    }

    #[test]
    fn star_matches_everything_and_garbage_is_skipped() {
        assert!(NoProxy::parse("*").matches("anything.test", 1));
        assert!(NoProxy::parse("a.test, *").matches("127.0.0.1", 1));
        let rules = NoProxy::parse("10.0.0.0/99, host:notaport, [::1, , example.org");
        assert!(!rules.matches("10.0.0.1", 80));
        assert!(!rules.matches("host", 80));
        assert!(rules.matches("example.org", 80));
        assert!(!NoProxy::parse("").matches("example.org", 80));
    }

    proptest! {
        #[test]
        fn every_subdomain_of_a_listed_domain_matches(
            labels in proptest::collection::vec("[a-z0-9]{1,8}", 1..4),
            domain in "[a-z]{1,10}\\.[a-z]{2,4}",
            port in any::<u16>(),
        ) {
            let rules = NoProxy::parse(&domain);
            let host = format!("{}.{domain}", labels.join("."));
            prop_assert!(rules.matches(&host, port));
            prop_assert!(rules.matches(&domain, port));
            // Glued on without a dot it is another domain.
            let glued = format!("{}{domain}", labels.join(""));
            prop_assert!(!rules.matches(&glued, port));
        }

        #[test]
        fn a_block_matches_exactly_its_addresses(
            base in any::<u32>(),
            prefix in 0u8..=32,
            probe in any::<u32>(),
        ) {
            let net = ipnet::Ipv4Net::new(base.into(), prefix).unwrap().trunc();
            let rules = NoProxy::parse(&net.to_string());
            let probe = std::net::Ipv4Addr::from(probe);
            prop_assert_eq!(rules.matches(&probe.to_string(), 80), net.contains(&probe));
        }

        #[test]
        fn parsing_never_panics(list in "\\PC{0,64}", host in "\\PC{0,32}", port in any::<u16>()) {
            let _ = NoProxy::parse(&list).matches(&host, port);
        }
    }
}
