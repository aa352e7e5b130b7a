//! One HTTP/1.1 keep-alive connection per load connection (hyper's
//! low-level client: no pool, no per-request allocation beyond the request).

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
        })
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
