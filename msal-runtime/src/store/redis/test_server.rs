//! A `redis-server` of a test's own: on a free loopback port, without persistence, killed when dropped, and able
//! to stop and come back on the same port (for the fault tests). The same fixture serves the end-to-end tests
//! (`tests/src/redis.rs`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// How long a server may take to answer its first PING.
const READY_WITHIN: Duration = Duration::from_secs(10);

/// A running (or stopped) `redis-server`.
#[derive(Debug)]
pub(crate) struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    /// A server on a free loopback port, answering PING.
    pub(crate) async fn start() -> RedisServer {
        let mut problems = Vec::new();
        // The port is free when read but not reserved: another process may take it before Redis binds it, so a
        // server that exits at start-up is tried again on another port.
        for _ in 0..5 {
            let mut server = RedisServer { port: free_port(), child: None };
            match server.launch().await {
                Ok(()) => return server,
                Err(problem) => problems.push(problem),
            }
        }
        panic!("redis-server did not start: {problems:?}")
    }

    /// `redis://127.0.0.1:<port>`.
    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Kills the server (as a crash would: connections drop, nothing is saved).
    pub(crate) async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Freezes the server (SIGSTOP): connections stay open and nothing answers, as with a hung or overloaded
    /// server.
    pub(crate) fn pause(&self) {
        self.signal("-STOP");
    }

    /// Lets a [paused](Self::pause) server go on (SIGCONT).
    pub(crate) fn resume(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, signal: &str) {
        let pid = self.child.as_ref().expect("a running server").id().to_string();
        let status = // The shell's own `kill`: a minimal system may lack the `kill` program.
        Command::new("sh").args(["-c", &format!("kill {signal} {pid}")]).status().expect("kill runs");
        assert!(status.success(), "kill {signal} {pid}: {status}");
    }

    /// Stops the server if it runs, then starts an empty one on the same port.
    pub(crate) async fn restart(&mut self) {
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

    async fn launch(&mut self) -> Result<(), String> {
        let port = self.port.to_string();
        let mut child = Command::new("redis-server")
            .args(["--port", &port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--loglevel", "warning"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot run redis-server ({error}): install redis-server (scripts/test does)")
            });
        // Its log, into the test's output (shown when a test fails).
        let log = child.stdout.take().expect("piped");
        std::thread::spawn(move || {
            for line in BufReader::new(log).lines().map_while(Result::ok) {
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
            if answers_ping(self.port) {
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

impl Drop for RedisServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGKILL ends a paused server too.
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A loopback port nothing listens on right now.
pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free loopback port");
    listener.local_addr().expect("its address").port()
}

/// Whether a Redis on `port` answers PING (a blocking exchange of a few bytes on loopback, bounded by 1 s).
fn answers_ping(port: u16) -> bool {
    let exchange = || {
        let mut stream = TcpStream::connect(("127.0.0.1", port))?;
        stream.set_read_timeout(Some(Duration::from_secs(1)))?;
        stream.write_all(b"PING\r\n")?;
        let mut answer = [0u8; 7];
        stream.read_exact(&mut answer)?;
        Ok::<_, std::io::Error>(&answer == b"+PONG\r\n")
    };
    exchange().unwrap_or(false)
}
