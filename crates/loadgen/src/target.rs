//! Where load may go: this machine only.

use std::net::{SocketAddr, ToSocketAddrs};

use crate::LoadError;

/// A checked target: a plain-HTTP URL on a loopback address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    /// Every address the host resolved to; all of them are loopback.
    pub addrs: Vec<SocketAddr>,
    /// `host:port`, sent as the `Host` header.
    pub authority: String,
    /// The path and query sent in each request.
    pub path: String,
}

impl Target {
    /// Parses `url` and refuses anything but `http://` to 127.0.0.1, ::1 or
    /// localhost (and a `localhost` that resolves to a non-loopback address).
    pub fn parse(url: &str) -> Result<Target, LoadError> {
        let bad = |reason: &str| LoadError::BadUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let uri: http::Uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| bad(&e.to_string()))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some(other) => {
                return Err(bad(&format!(
                    "scheme {other} is not supported, use http"
                )));
            }
            None => return Err(bad("no scheme, expected http://HOST:PORT/PATH")),
        }
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        let host = authority.host();
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if !matches!(bare, "127.0.0.1" | "::1" | "localhost") {
            return Err(LoadError::NotLocal {
                host: host.to_owned(),
            });
        }
        let port = authority.port_u16().unwrap_or(80);
        let addrs: Vec<SocketAddr> = (bare, port)
            .to_socket_addrs()
            .map_err(|e| bad(&format!("cannot resolve {bare}: {e}")))?
            .collect();
        if addrs.is_empty() {
            return Err(bad(&format!("{bare} resolves to no address")));
        }
        if let Some(far) = addrs.iter().find(|a| !a.ip().is_loopback()) {
            return Err(LoadError::NotLocal {
                host: format!("{host} (resolves to {})", far.ip()),
            });
        }
        let path = uri
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".to_owned());
        Ok(Target {
            addrs,
            authority: authority.as_str().to_owned(),
            path,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_targets_are_accepted() {
        for url in [
            "http://127.0.0.1:8080/hello",
            "http://[::1]:8080/",
            "http://localhost:9/x?y=1",
        ] {
            let t = Target::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
            assert!(t.addrs.iter().all(|a| a.ip().is_loopback()), "{url}");
        }
        let t = Target::parse("http://127.0.0.1:8080/x?y=1").unwrap();
        assert_eq!(t.path, "/x?y=1");
        assert_eq!(t.authority, "127.0.0.1:8080");
    }

    #[test]
    fn other_hosts_are_refused_with_a_clear_error() {
        for url in [
            "http://10.0.0.1:80/",
            "http://example.com/",
            "http://127.0.0.2:80/",
            "http://0.0.0.0:80/",
            "http://[::2]:80/",
        ] {
            let e = Target::parse(url).unwrap_err();
            assert!(matches!(e, LoadError::NotLocal { .. }), "{url}: {e}");
            assert!(
                e.to_string()
                    .contains("only targets 127.0.0.1, ::1 or localhost")
            );
        }
    }

    #[test]
    fn malformed_and_non_http_urls_are_refused() {
        for url in ["127.0.0.1:80", "https://127.0.0.1/", "http://", "not a url"] {
            let e = Target::parse(url).unwrap_err();
            assert!(matches!(e, LoadError::BadUrl { .. }), "{url}: {e}");
        }
    }
}
