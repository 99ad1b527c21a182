//! `fake-knack --fixture PATH --port N [--rate-limit N|off] [--window fixed|sliding]
//! [--daily-limit N|off] [--seed-tickets N] [--latency-ms N] [--max-upload-bytes N]
//! [--asset-host] [--tls [--ca-out PATH]]`
//!
//! Prints `listening on http://127.0.0.1:PORT` (`https://` with `--tls`, after writing the
//! test CA's PEM certificate to `--ca-out`) and serves until SIGINT/SIGTERM. With
//! `--asset-host`, also prints `fake-knack: asset host on http://127.0.0.1:PORT` to stderr.

use std::io::Write;
use std::process::ExitCode;

use fake_knack::{FakeConfig, FakeKnack, Window};

const USAGE: &str = "usage: fake-knack [--fixture PATH] [--port N] [--rate-limit N|off] \
[--window fixed|sliding] [--daily-limit N|off] [--seed-tickets N] [--latency-ms N] \
[--max-upload-bytes N] [--asset-host] [--tls [--ca-out PATH]]";

struct Args {
    config: FakeConfig,
    ca_out: Option<String>,
    asset_host: bool,
}

fn parse_args(args: &[String]) -> Result<Args, String> {
    let mut fixture = None;
    let mut port = 0u16;
    let mut rate: Option<Option<u32>> = None;
    let mut window = None;
    let mut daily: Option<Option<u64>> = None;
    let mut seed = 0usize;
    let mut latency = 0u64;
    let mut tls = false;
    let mut asset_host = false;
    let mut max_upload = None;
    let mut ca_out = None;
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n, Some(v.to_string())),
            _ => (flag.as_str(), None),
        };
        if name == "--help" || name == "-h" {
            return Err(String::new());
        }
        if name == "--tls" && inline.is_none() {
            tls = true;
            continue;
        }
        if name == "--asset-host" && inline.is_none() {
            asset_host = true;
            continue;
        }
        let mut value = || -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        let num = |v: &str| -> Result<u64, String> {
            v.parse::<u64>()
                .map_err(|_| format!("{name}: expected a number, got {v:?}"))
        };
        match name {
            "--fixture" => fixture = Some(value()?),
            "--port" => {
                let v = value()?;
                port = v
                    .parse()
                    .map_err(|_| format!("--port: expected 0-65535, got {v:?}"))?;
            }
            "--rate-limit" => {
                let v = value()?;
                rate = Some(match v.as_str() {
                    "off" | "null" | "none" => None,
                    n => Some(num(n)?.clamp(1, u64::from(u32::MAX)) as u32),
                });
            }
            "--window" => {
                window = Some(match value()?.as_str() {
                    "fixed" => Window::Fixed,
                    "sliding" => Window::Sliding,
                    other => {
                        return Err(format!("--window: expected fixed|sliding, got {other:?}"))
                    }
                })
            }
            "--daily-limit" => {
                let v = value()?;
                daily = Some(match v.as_str() {
                    "off" | "null" | "none" => None,
                    n => Some(num(n)?),
                });
            }
            "--seed-tickets" => seed = num(&value()?)? as usize,
            "--latency-ms" => latency = num(&value()?)?,
            "--max-upload-bytes" => max_upload = Some(num(&value()?)?),
            "--ca-out" => ca_out = Some(value()?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let mut cfg = match fixture {
        Some(p) => FakeConfig::from_fixture_path(p),
        None => FakeConfig::helpdesk(),
    };
    if ca_out.is_some() && !tls {
        return Err("--ca-out needs --tls".into());
    }
    cfg = cfg
        .port(port)
        .seed_tickets(seed)
        .latency_ms(latency)
        .asset_host(asset_host)
        .tls(tls);
    if let Some(n) = max_upload {
        cfg = cfg.max_upload_bytes(n);
    }
    if let Some(w) = window {
        cfg = cfg.rate_window(w);
    }
    if let Some(r) = rate {
        cfg = cfg.rate_limit(r);
    }
    if let Some(d) = daily {
        cfg = cfg.daily_limit(d);
    }
    Ok(Args {
        config: cfg,
        ca_out,
        asset_host,
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Args {
        config: cfg,
        ca_out,
        asset_host,
    } = match parse_args(&args) {
        Ok(c) => c,
        Err(msg) => {
            if msg.is_empty() {
                eprintln!("{USAGE}");
                return ExitCode::SUCCESS;
            }
            eprintln!("fake-knack: {msg}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let rt = match fake_knack::runtime() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("fake-knack: cannot start runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    rt.block_on(async move {
        let server = match FakeKnack::start(cfg).await {
            Ok(s) => s,
            Err(e) => {
                eprintln!("fake-knack: {e}");
                return ExitCode::FAILURE;
            }
        };
        if let (Some(path), Some(pem)) = (&ca_out, server.ca_pem()) {
            if let Err(e) = std::fs::write(path, pem) {
                eprintln!("fake-knack: cannot write the CA certificate to {path}: {e}");
                return ExitCode::FAILURE;
            }
        }
        let mut out = std::io::stdout().lock();
        if writeln!(out, "listening on {}", server.url())
            .and_then(|_| out.flush())
            .is_err()
        {
            eprintln!("fake-knack: cannot write to stdout");
        }
        drop(out);
        if asset_host {
            eprintln!("fake-knack: asset host on {}", server.asset_host_url());
        }
        wait_for_signal().await;
        server.shutdown().await;
        ExitCode::SUCCESS
    })
}
