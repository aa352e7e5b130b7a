//! One HTTP/1.1 keep-alive connection per load connection (hyper's
//! low-level client: no pool, no per-request allocation beyond the request).
//! On request a share of the requests carries a W3C `traceparent`, each with
//! a trace id of its own, so that the service's extraction is on the path
//! the load measures.

use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::recorder::Outcome;
use crate::{Connection, LoadError, Target};

/// An open keep-alive connection that sends the same request again and
/// again: `GET target.path`, or a `POST` with a fixed body.
#[derive(Debug)]
pub struct HttpConnection {
    sender: SendRequest<Full<Bytes>>,
    request: http::request::Parts,
    body: Bytes,
    /// Send a `traceparent` on every n-th request (the first, the n+1-th, ...).
    traceparent_every: Option<NonZeroU64>,
    /// Requests sent on this connection so far.
    calls: u64,
    /// Where this connection's trace ids start (see [`trace_ids`]).
    seed: u64,
}

/// Each connection gets its own seed, so no two connections send the same
/// trace id.
static SEEDS: AtomicU64 = AtomicU64::new(0);

/// SplitMix64's output function (Steele, Lea and Flood, *Fast splittable
/// pseudorandom number generators*, OOPSLA 2014): distinct inputs give
/// distinct, evenly spread outputs.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The `traceparent` of request `n` of the connection seeded `seed`: a
/// sampled parent with a trace id and span id of its own. The ids are
/// spread evenly, so a trace-id ratio sampler keeps its ratio of them.
fn traceparent(seed: u64, n: u64) -> String {
    let key = seed.wrapping_mul(1 << 40).wrapping_add(n);
    let (high, low, span) = (mix(key), mix(!key), mix(key ^ 0x5bd1_e995));
    format!("00-{high:016x}{:016x}-{:016x}-01", low.max(1), span.max(1))
}

impl HttpConnection {
    /// Connects to the target (already checked to be loopback), to send `GET`s.
    pub async fn open(target: &Target) -> Result<HttpConnection, LoadError> {
        Self::open_with(target, http::Method::GET, None).await
    }

    /// Connects to the target, to send `POST`s of `body` as `content_type`.
    pub async fn open_post(
        target: &Target,
        body: Bytes,
        content_type: &str,
    ) -> Result<HttpConnection, LoadError> {
        Self::open_with(target, http::Method::POST, Some((body, content_type))).await
    }

    async fn open_with(
        target: &Target,
        method: http::Method,
        body: Option<(Bytes, &str)>,
    ) -> Result<HttpConnection, LoadError> {
        let addr = target.addrs[0];
        let stream =
            TcpStream::connect(addr)
                .await
                .map_err(|source| LoadError::Connect {
                    addr: addr.to_string(),
                    source,
                })?;
        stream
            .set_nodelay(true)
            .map_err(|source| LoadError::Connect {
                addr: addr.to_string(),
                source,
            })?;
        let (sender, conn) =
            http1::handshake(TokioIo::new(stream)).await.map_err(|e| {
                LoadError::Handshake {
                    addr: addr.to_string(),
                    reason: e.to_string(),
                }
            })?;
        // The connection's I/O runs in its own task; it ends when `sender` is dropped.
        tokio::spawn(conn);
        let mut builder = http::Request::builder()
            .method(method)
            .uri(target.path.as_str())
            .header(http::header::HOST, target.authority.as_str());
        if let Some((_, content_type)) = &body {
            builder = builder.header(http::header::CONTENT_TYPE, *content_type);
        }
        let (request, ()) = builder
            .body(())
            .map_err(|e| LoadError::BadUrl {
                url: target.path.clone(),
                reason: e.to_string(),
            })?
            .into_parts();
        Ok(HttpConnection {
            sender,
            request,
            body: body.map(|(b, _)| b).unwrap_or_default(),
            traceparent_every: None,
            calls: 0,
            seed: SEEDS.fetch_add(1, Ordering::Relaxed),
        })
    }

    /// Sends a W3C `traceparent` (a sampled remote parent, ids of its own)
    /// on every `n`-th request of this connection, starting with the first:
    /// a share of 1/`n` of its requests.
    pub fn with_traceparent_every(mut self, n: NonZeroU64) -> HttpConnection {
        self.traceparent_every = Some(n);
        self
    }

    /// Opens `n` connections like this one (same request).
    pub async fn open_like(
        &self,
        target: &Target,
        n: usize,
    ) -> Result<Vec<HttpConnection>, LoadError> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let mut c = HttpConnection::open(target).await?;
            c.request.method = self.request.method.clone();
            c.request.headers = self.request.headers.clone();
            c.body = self.body.clone();
            c.traceparent_every = self.traceparent_every;
            out.push(c);
        }
        Ok(out)
    }

    /// Opens `n` connections.
    pub async fn open_many(
        target: &Target,
        n: usize,
    ) -> Result<Vec<HttpConnection>, LoadError> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(HttpConnection::open(target).await?);
        }
        Ok(out)
    }
}

impl Connection for HttpConnection {
    async fn call(&mut self) -> Outcome {
        if let Err(e) = self.sender.ready().await {
            return Outcome::Transport(e.to_string());
        }
        let mut req = http::Request::new(Full::new(self.body.clone()));
        *req.method_mut() = self.request.method.clone();
        *req.uri_mut() = self.request.uri.clone();
        *req.headers_mut() = self.request.headers.clone();
        let n = self.calls;
        self.calls += 1;
        if let Some(every) = self.traceparent_every
            && n.is_multiple_of(every.get())
        {
            let value = http::HeaderValue::from_str(&traceparent(self.seed, n))
                .expect("hex digits and dashes are a valid header value");
            req.headers_mut().insert("traceparent", value);
        }
        let response = match self.sender.send_request(req).await {
            Ok(r) => r,
            Err(e) => return Outcome::Transport(e.to_string()),
        };
        let status = response.status();
        // Read the whole body so the connection can carry the next request.
        if let Err(e) = response.into_body().collect().await {
            return Outcome::Transport(e.to_string());
        }
        if status.is_success() {
            Outcome::Ok
        } else {
            Outcome::Status(status.as_u16())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn traceparents_are_well_formed_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for seed in 0..4 {
            for n in 0..1000 {
                let t = traceparent(seed, n);
                let parts: Vec<&str> = t.split('-').collect();
                assert_eq!(parts.len(), 4, "{t}");
                assert_eq!((parts[0], parts[3]), ("00", "01"), "{t}");
                assert_eq!((parts[1].len(), parts[2].len()), (32, 16), "{t}");
                assert!(parts[1].bytes().all(|b| b.is_ascii_hexdigit()), "{t}");
                assert!(seen.insert(parts[1].to_owned()), "repeated: {t}");
            }
        }
    }

    /// A trace-id ratio sampler reads the low 8 bytes of the id: at 1 %,
    /// about 1 % of the ids sent must fall under the threshold.
    #[test]
    fn trace_ids_are_spread_evenly() {
        let under = (0..100_000)
            .filter(|n| {
                let t = traceparent(7, *n);
                let low = u64::from_str_radix(&t[19..35], 16).unwrap();
                (low >> 1) < (u64::MAX >> 1) / 100
            })
            .count();
        assert!((800..1200).contains(&under), "{under} of 100000 under 1 %");
    }
}
