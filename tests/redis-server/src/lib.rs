//! A `redis-server` of a test's own: on a free loopback port, without persistence, killed when dropped, and able
//! to stop, freeze and come back on the same port (for fault tests). Its own crate, so that msal-runtime's unit
//! tests and the end-to-end tests share it: the end-to-end crate depends on msal-runtime, which therefore cannot
//! take it from there.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

/// How long a server may take to answer its first PING.
const READY_WITHIN: Duration = Duration::from_secs(10);

/// A running (or stopped) `redis-server`.
#[derive(Debug)]
pub struct RedisServer {
    port: u16,
    child: Option<Child>,
    /// Where [`snapshot`](Self::snapshot) writes (removed when dropped).
    dir: std::path::PathBuf,
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl RedisServer {
    /// A server on a free loopback port, answering PING.
    pub async fn start() -> RedisServer {
        let mut problems = Vec::new();
        // The port is free when read but not reserved: another process may take it before Redis binds it, so a
        // server that exits at start-up is tried again on another port.
        for _ in 0..5 {
            let port = free_port();
            let dir = std::env::temp_dir().join(format!("msal-redis-{}-{port}", std::process::id()));
            std::fs::create_dir_all(&dir).expect("a folder for the snapshot");
            let mut server = RedisServer { port, child: None, dir };
            match server.launch().await {
                Ok(()) => return server,
                Err(problem) => problems.push(problem),
            }
        }
        panic!("redis-server did not start: {problems:?}")
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Its port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Everything the server holds, as its snapshot file (uncompressed, so that what is stored can be looked
    /// for in it byte for byte).
    pub async fn snapshot(&self) -> Vec<u8> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).await.expect("connects");
        stream.write_all(b"SAVE\r\n").await.unwrap();
        let mut answer = [0u8; 5];
        stream.read_exact(&mut answer).await.unwrap();
        assert_eq!(&answer, b"+OK\r\n", "SAVE");
        std::fs::read(self.dir.join("dump.rdb")).expect("the snapshot")
    }

    /// Kills the server (as a crash would: connections drop, nothing is saved).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Stops the server if it runs, then starts an empty one on the same port.
    pub async fn restart(&mut self) {
        self.stop().await;
        let mut problems = Vec::new();
        for _ in 0..5 {
            match self.launch().await {
                Ok(()) => return,
                Err(problem) => problems.push(problem),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("redis-server did not start again on port {}: {problems:?}", self.port)
    }

    /// Freezes the server (SIGSTOP): connections stay open and nothing answers, as with a hung server.
    pub async fn pause(&self) {
        self.signal("-STOP").await;
    }

    /// Lets a [paused](Self::pause) server go on (SIGCONT).
    pub async fn resume(&self) {
        self.signal("-CONT").await;
    }

    async fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().and_then(Child::id).expect("a running server").to_string();
        let status = // The shell's own `kill`: a minimal system may lack the `kill` program.
        Command::new("sh").args(["-c", &format!("kill {signal} {pid}")]).status().await.expect("kill runs");
        assert!(status.success(), "kill {signal} {pid}: {status}");
    }

    async fn launch(&mut self) -> Result<(), String> {
        let port = self.port.to_string();
        let mut child = Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--loglevel", "warning", "--rdbcompression", "no", "--dbfilename", "dump.rdb"])
            .arg("--dir")
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot run redis-server ({error}): install redis-server (scripts/test does)")
            });
        // Its log, into the test's output (shown when a test fails).
        let mut log = BufReader::new(child.stdout.take().expect("piped")).lines();
        tokio::spawn(async move {
            while let Ok(Some(line)) = log.next_line().await {
                eprintln!("[redis {port}] {line}");
            }
        });
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + READY_WITHIN;
        loop {
            if let Some(status) = self.child.as_mut().and_then(|child| child.try_wait().ok().flatten()) {
                self.child = None;
                return Err(format!("redis-server on port {} exited at start-up: {status}", self.port));
            }
            if answers_ping(self.port).await {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                self.stop().await;
                return Err(format!("redis-server on port {} did not answer PING within {READY_WITHIN:?}", self.port));
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("its address").port()
}

async fn answers_ping(port: u16) -> bool {
    let exchange = async {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.write_all(b"PING\r\n").await?;
        let mut answer = [0u8; 7];
        stream.read_exact(&mut answer).await?;
        Ok::<_, std::io::Error>(&answer == b"+PONG\r\n")
    };
    matches!(tokio::time::timeout(Duration::from_secs(1), exchange).await, Ok(Ok(true)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_server_answers_stops_and_comes_back_on_its_port() {
        let mut server = RedisServer::start().await;
        assert!(answers_ping(server.port()).await);
        assert_eq!(server.url(), format!("redis://127.0.0.1:{}", server.port()));
        server.stop().await;
        assert!(!answers_ping(server.port()).await);
        server.restart().await;
        assert!(answers_ping(server.port()).await);
        server.pause().await;
        assert!(!answers_ping(server.port()).await, "a paused server answers nothing");
        server.resume().await;
        assert!(answers_ping(server.port()).await);
    }
}
