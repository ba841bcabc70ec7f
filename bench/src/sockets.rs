//! WebSocket clients spread over several loopback source addresses: one address has about 28,000
//! ephemeral ports (`ip_local_port_range`), too few for 50,000 connections to one server port.

use std::net::{Ipv4Addr, SocketAddr};

use anyhow::Context;
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Source addresses used, 127.0.0.1 to 127.0.0.8 (the whole of 127/8 is this machine's).
const SOURCES: usize = 8;

/// Opens a WebSocket to `url` (a `ws://` URL with a numeric host) from the `n`th connection's
/// source address.
pub async fn connect(url: &str, n: usize) -> anyhow::Result<Socket> {
    let request = url.into_client_request()?;
    let server: SocketAddr = request
        .uri()
        .authority()
        .context("no host in the URL")?
        .as_str()
        .parse()
        .context("the host must be an IP address and port")?;
    let socket = TcpSocket::new_v4()?;
    // `n % SOURCES` < 8, so the cast cannot truncate.
    socket.bind((Ipv4Addr::new(127, 0, 0, 1 + (n % SOURCES) as u8), 0).into())?;
    let stream = socket.connect(server).await?;
    let (socket, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream)).await?;
    Ok(socket)
}
